"""Lex V2 fulfillment function of the sample ChatBot (Handler: ``lex_app.lambda_handler``).

Thin: the work happens in ``chatstate.lex.LexRuntime``; the bot lives in ``lex_bot``. Everything the function
uses is built in one place, ``LexDependencies``: the settings, the session store, the agent responder (built-in,
or Bedrock when ``BEDROCK_MODEL_ID`` is set), the token verifier (``TOKEN_ISSUER``/``TOKEN_AUDIENCE``; JWKS cached),
the profile store of signed-in users and the runtime. ``dependencies()`` holds one per execution environment,
built during Lambda's Init when running in Lambda (``prepare``), otherwise on first use; ``configure(...)``
replaces it (tests and local runs inject parts; ``configure()`` alone rebuilds everything from the environment).
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from lex_bot.attributes import BotAttributes
from lex_bot.intents import router

from chatstate.deadline import Deadline, within
from chatstate.environment import (
    CachedRoot,
    SessionDependencies,
    build_models,
    in_lambda,
    init_ahead_of_requests,
    prepare_clients,
)
from chatstate.logsafe import error_fields

if TYPE_CHECKING:
    from chatstate.identity import TokenVerifier
    from chatstate.lex.runtime import LexRuntime

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "chatstate-lex")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ChatState")


class LexDependencies(SessionDependencies):
    """The Lex function's composition root: every part built on first use, from the environment unless given.

    Settings, store, responder (the agent of the bot's fallback turns) and profiles come from
    ``SessionDependencies``; the verifier and the runtime are the Lex function's own.
    """

    @cached_property
    def verifier(self) -> TokenVerifier | None:
        """The token verifier of signed-in users (``None``: identity off)."""
        from chatstate.identity import IdentitySettings

        return IdentitySettings.from_env().verifier()

    @cached_property
    def runtime(self) -> LexRuntime[BotAttributes]:
        """The runtime that answers each turn."""
        from chatstate.lex.profile_link import ProfileLink
        from chatstate.lex.runtime import LexRuntime

        return LexRuntime(
            router,
            store=self.store,
            logger=logger,
            metrics=metrics,
            responder=self.responder,
            history_turns=self.settings.history_turns,
            profiles=ProfileLink(self.verifier, self.profiles),
        )


_root: CachedRoot[LexDependencies] = CachedRoot(LexDependencies)


def dependencies() -> LexDependencies:
    """This execution environment's dependencies (created once; each part is built on first use)."""
    return _root.get()


def configure(**parts: Any) -> LexDependencies:
    """Start over with fresh dependencies; ``parts`` (e.g. ``store=``, ``profiles=``) replace built ones."""
    return _root.configure(**parts)


@logger.inject_lambda_context(log_event=False, clear_state=True)  # no keys left by an earlier invocation
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Lex V2 code-hook event, within the invocation's time budget."""
    with within(Deadline.from_context(context)):
        try:
            runtime = dependencies().runtime
        except Exception as exc:  # the configuration or boto3: Lex still gets a valid answer
            logger.error("the function's dependencies could not be built", extra=error_fields(exc))
            return _failure_answer(event)
        return runtime.handle(event)


def _failure_answer(event: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit
    from pydantic import ValidationError

    from chatstate.lex.models import LexEvent
    from chatstate.lex.runtime import failure_answer

    metrics.add_metric(name="LexErrors", unit=MetricUnit.Count, value=1)
    try:
        parsed: LexEvent | None = LexEvent.model_validate(event)
    except ValidationError:
        parsed = None
    return failure_answer(event, parsed)


def prepare() -> None:
    """Build the dependencies and the DynamoDB client now (Lambda Init) rather than in the first event.

    When no request waits for this Init (SnapStart's snapshot, provisioned concurrency), the models' schemas are
    built too, so the restored or provisioned environment answers its first event without building them.

    Best effort: if the configuration or the client fails here, the first event builds them again and still answers Lex
    with a valid response.
    """
    try:
        prepare_clients(dependencies().runtime.store)
        if init_ahead_of_requests():  # no request waits for this Init: build the schemas now
            build_models("chatstate", "lex_bot")
    except Exception as exc:
        logger.error("init: runtime not prepared; the first event will build it", extra=error_fields(exc))


if in_lambda():
    prepare()
