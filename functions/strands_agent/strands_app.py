"""StrandsAgentFunction: a Strands agent whose sessions live in chatstate's table (direct invoke).

Payload (AgentCore-style): ``{"prompt": str, "session_id": str, "actor_id": str}`` →
``{"response": str, "session_id": str, "message_count": int}`` (``message_count``: the messages the
session holds, tool calls included). An error is *returned* as ``{"error": {"code", "message"},
"status": int}`` (plus ``"retry_after_seconds"`` when a retry may succeed); only bugs raise.

Each invocation builds an ``Agent`` on a ``chatstate.strands.DynamoDBSessionManager``: one Query
restores it, one conditional PutItem stores the turn. The composition root, ``StrandsDependencies``
(``dependencies()``), holds the settings, the table and its DynamoDB client and the model (Bedrock when
``BEDROCK_MODEL_ID`` is set, else the offline script), built during Lambda's Init; tests replace parts
with ``configure(...)`` (``configure()`` alone rebuilds everything from the environment).
"""

from __future__ import annotations

import logging
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatstate.deadline import Deadline, within
from chatstate.environment import CachedRoot, Dependencies, in_lambda, prepare_clients
from chatstate.exceptions import ConfigError, DeadlineExceeded
from chatstate.logsafe import error_fields, safe_id, validation_summary
from chatstate.models import ActorId, SessionId

if TYPE_CHECKING:
    from strands.models import Model

    from chatstate.settings import Settings
    from chatstate.store.dynamodb import DynamoDBTable

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "chatstate")

MAX_PROMPT_CHARS = 4_000
SYSTEM_PROMPT = (
    "You are a concise travel assistant. Use find_flights to look up flights and book_flight to book one the user "
    "chose; bookings are kept in the session."
)


class InvokePayload(BaseModel):
    """The direct invocation: ``{"prompt", "session_id", "actor_id"}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    session_id: SessionId
    actor_id: ActorId


# -- the composition root (once per execution environment) --------------------------------------------
def quiet_strands_logs() -> None:
    """Cap the Strands SDK's loggers at INFO: at DEBUG they log tool inputs and model output (user data)."""
    strands_logger = logging.getLogger("strands")
    if strands_logger.level < logging.INFO:  # NOTSET (inherits the root's level) or DEBUG
        strands_logger.setLevel(max(logging.INFO, strands_logger.getEffectiveLevel()))


def bedrock_model(model_id: str) -> Model:
    """Bedrock through Converse (``bedrock:InvokeModel``), its client bounded by the invocation's budget."""
    from botocore.config import Config
    from strands.models import BedrockModel

    from chatstate.deadline import guard_client

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=1, read_timeout=20)
    model = BedrockModel(model_id=model_id, streaming=False, boto_client_config=config, max_tokens=512)
    guard_client(model.client, what="Bedrock")
    return model


class StrandsDependencies(Dependencies):
    """Every part built on first use, from the environment unless given."""

    @cached_property
    def settings(self) -> Settings:
        """The function's validated environment."""
        from chatstate.settings import Settings

        return Settings.from_env()

    @cached_property
    def table(self) -> DynamoDBTable:
        """The session table and its DynamoDB client (created on first use, bounded by the invocation's budget)."""
        from chatstate.store.dynamodb import DynamoDBTable

        return DynamoDBTable(self.settings.table_name)

    @cached_property
    def model(self) -> Model:
        """Bedrock when ``BEDROCK_MODEL_ID`` is set, otherwise the offline script."""
        if self.settings.bedrock_model_id:
            return bedrock_model(self.settings.bedrock_model_id)
        from offline_model import offline_model

        return offline_model()

    @cached_property
    def system_prompt(self) -> str:
        """``CHAT_SYSTEM_PROMPT``, or the travel assistant's."""
        return self.settings.system_prompt or SYSTEM_PROMPT


def _build(**parts: Any) -> StrandsDependencies:
    quiet_strands_logs()
    return StrandsDependencies(**parts)


_root: CachedRoot[StrandsDependencies] = CachedRoot(_build)


def dependencies() -> StrandsDependencies:
    """This execution environment's dependencies (created once; each part is built on first use)."""
    return _root.get()


def configure(**parts: Any) -> StrandsDependencies:
    """Start over with fresh dependencies; ``parts`` (``table=``, ``model=``, ``settings=``...) replace built ones."""
    return _root.configure(**parts)


# -- one invocation ------------------------------------------------------------------------------------
def run(payload: InvokePayload) -> dict[str, Any]:
    """Restore the agent of ``payload``'s session, run the prompt, store the turn; the answer."""
    from strands import Agent
    from travel_tools import TOOLS

    from chatstate.strands import DynamoDBSessionManager

    parts = dependencies()
    manager = DynamoDBSessionManager(
        payload.session_id,
        table_name=parts.table.table_name,
        actor_id=payload.actor_id,
        ttl_seconds=parts.settings.ttl_seconds,
        client=parts.table.client,
    )
    agent = Agent(
        model=parts.model,
        tools=TOOLS,
        system_prompt=parts.system_prompt,
        session_manager=manager,
        callback_handler=None,
        retry_strategy=None,  # botocore's retries, bounded by the invocation's budget, are the only ones
    )
    result = agent(payload.prompt)
    return {
        "response": str(result).strip(),
        "session_id": payload.session_id,
        "message_count": manager.message_count(agent.agent_id),
    }


def _error(status: int, code: str, message: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}, "status": status}
    if retry_after is not None:
        body["retry_after_seconds"] = retry_after
    return body


def error_answer(exc: BaseException) -> dict[str, Any]:
    """The returned error for a failed invocation, by exception type."""
    from strands.types.exceptions import ModelThrottledException

    from chatstate.strands import SessionConflict, SessionStoreError, SessionTooLarge

    causes = [exc, exc.__cause__, exc.__context__]
    if isinstance(exc, SessionConflict):
        return _error(409, "conflict", "another invocation changed this session first; retry with the same prompt")
    if isinstance(exc, SessionTooLarge):
        return _error(413, "payload_too_large", "the turn is too large to store")
    if isinstance(exc, SessionStoreError) and exc.retry_after_seconds is not None:
        return _error(503, "store_unavailable", "the session store is busy; retry later", exc.retry_after_seconds)
    if any(isinstance(c, ModelThrottledException | DeadlineExceeded) for c in causes):
        return _error(503, "responder_unavailable", "the model is busy or out of time; retry later", 1)
    if isinstance(exc, SessionStoreError | ConfigError):
        return _error(500, "internal_error", "the request could not be processed")
    return _error(502, "responder_failed", "the agent could not produce an answer")


def invoke(event: Any) -> dict[str, Any]:
    """Answer one direct invocation (errors returned, see the module docstring)."""
    session_id = event.get("session_id") if isinstance(event, dict) else None
    logger.set_correlation_id(safe_id(session_id))
    try:
        payload = InvokePayload.model_validate(event)
    except ValidationError as exc:
        logger.info("invoke rejected", extra={"validation_errors": validation_summary(exc)})
        too_long = any(e["type"] == "string_too_long" and e["loc"] == ("prompt",) for e in exc.errors())
        if too_long:
            return _error(413, "payload_too_large", f"prompt: longer than {MAX_PROMPT_CHARS} characters")
        fields = ", ".join(sorted({str(e["loc"][0]) if e["loc"] else "payload" for e in exc.errors()}))
        return _error(400, "bad_request", f"invalid or missing fields: {fields}")
    try:
        answer = run(payload)
    except Exception as exc:
        body = error_answer(exc)
        level = logger.error if body["status"] >= 500 and body["status"] != 503 else logger.info
        level("invoke failed", extra={"status": body["status"], **error_fields(exc)})
        metrics.add_metric(name="StrandsErrors", unit=MetricUnit.Count, value=1)
        return body
    metrics.add_metric(name="StrandsTurns", unit=MetricUnit.Count, value=1)
    logger.info("invoke answered", extra={"message_count": answer["message_count"]})
    return answer


@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: the invocation's budget is its remaining time."""
    logger.clear_state()
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(request_id=request_id)
    with within(Deadline.from_context(context)):
        return invoke(event)


def prepare() -> None:
    """Import Strands and build the dependencies and their clients during Lambda's Init (best effort)."""
    try:
        import strands  # noqa: F401 - the import is most of the cold start

        parts = dependencies()
        prepare_clients(parts.table)
        parts.model  # noqa: B018 - built now: a Bedrock client, or the script
    except Exception as exc:
        logger.error("init: dependencies not prepared; the first invocation will build them", extra=error_fields(exc))


if in_lambda():
    prepare()
