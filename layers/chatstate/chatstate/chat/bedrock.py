"""A responder backed by Amazon Bedrock's Converse API, with the last turns of the session as context.

The bedrock-runtime client is created lazily, once per responder (and so once per execution
environment, since the function builds one responder), or injected (tests: botocore ``Stubber``).
A created client is bounded by the invocation's budget (``chatstate.deadline.guard_client``), and its
read timeout is sized from the budget it is created in, so one attempt fits with room left to save
the turn. Bedrock's error codes are translated once, in ``_translate``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatstate import deadline
from chatstate.chat.errors import ResponderFailed, ResponderUnavailable
from chatstate.exceptions import DeadlineExceeded
from chatstate.models import Message, Session
from chatstate.settings import DEFAULT_HISTORY_TURNS

if TYPE_CHECKING:
    from botocore.client import BaseClient

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful, concise assistant in a chat application. Use the earlier turns of the conversation as context."
)
DEFAULT_INFERENCE_CONFIG: dict[str, Any] = {"maxTokens": 512, "temperature": 0.5}

CONNECT_TIMEOUT_SECONDS = 1.0
MAX_READ_TIMEOUT_SECONDS = 20.0
"""Read timeout of one Converse attempt when the budget allows it (and outside any budget)."""
MIN_READ_TIMEOUT_SECONDS = 1.0
SAVE_RESERVE_SECONDS = 4.0
"""Budget kept back from the model for saving the turn: one DynamoDB attempt (connect 1 s + read 3 s)."""

TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException", "InternalServerException"}
)
"""Bedrock error codes that a later retry may fix (→ ``ResponderUnavailable``, HTTP 503)."""


class BedrockConverseResponder:
    """Replies with a Bedrock model through ``bedrock-runtime`` ``converse``.

    Args:
        model_id: A model id or inference-profile id/ARN.
        client: An injected bedrock-runtime client; created lazily (once) when omitted.
        system_prompt: The system prompt (``DEFAULT_SYSTEM_PROMPT`` when ``None``).
        max_turns: How many earlier user/assistant turns to send as context.
        inference_config: Converse ``inferenceConfig`` (``DEFAULT_INFERENCE_CONFIG`` when ``None``).
        read_timeout: Read timeout of one Converse attempt of the created client (``None``: sized from
            the budget the client is created in, see ``read_timeout_for``).
    """

    def __init__(
        self,
        model_id: str,
        client: BaseClient | None = None,
        *,
        system_prompt: str | None = None,
        max_turns: int = DEFAULT_HISTORY_TURNS,
        inference_config: dict[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> None:
        if not model_id:
            raise ValueError("model_id is required")
        self.model_id = model_id
        self.system_prompt = system_prompt or DEFAULT_SYSTEM_PROMPT
        self.max_turns = max(0, max_turns)
        self.inference_config = dict(DEFAULT_INFERENCE_CONFIG if inference_config is None else inference_config)
        self._client = client
        self._read_timeout = read_timeout
        self._lock = threading.Lock()

    @property
    def client(self) -> BaseClient:
        """The bedrock-runtime client, created on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    from chatstate.logsafe import quiet_wire_logs

                    quiet_wire_logs()

                    config = Config(
                        retries={"mode": "standard", "max_attempts": 3},
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        read_timeout=self._read_timeout or read_timeout_for(deadline.current()),
                    )
                    self._client = deadline.guard_client(boto3.client("bedrock-runtime", config=config), what="Bedrock")
        return self._client

    def build_messages(self, history: Sequence[Message], message: str) -> list[dict[str, Any]]:
        """Converse ``messages``: the last ``max_turns`` turns, alternating, starting with a user turn.

        Consecutive messages of the same role are merged, system/tool messages are skipped, and a
        leading assistant message is dropped (Converse requires the first message to be the user's).
        """
        turns: list[tuple[str, str]] = []
        for item in history:
            if item.role not in ("user", "assistant"):
                continue
            text = item.effective_content
            if turns and turns[-1][0] == item.role:
                turns[-1] = (item.role, f"{turns[-1][1]}\n\n{text}")
            else:
                turns.append((item.role, text))
        if turns and turns[-1][0] == "user":
            # An unanswered user message (e.g. a failed earlier turn): fold it into this one.
            message = f"{turns.pop()[1]}\n\n{message}"
        keep = 2 * self.max_turns
        turns = turns[-keep:] if keep else []
        while turns and turns[0][0] != "user":
            turns.pop(0)
        turns.append(("user", message))
        return [{"role": role, "content": [{"text": text}]} for role, text in turns]

    def reply(self, session: Session | None, history: Sequence[Message], message: str) -> str:
        """Ask the model for a reply to ``message`` given the recent ``history``.

        Raises:
            ResponderUnavailable: throttled, model not ready, service unavailable or unreachable.
            ResponderFailed: any other Bedrock error, or a response without text.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "modelId": self.model_id,
            "messages": self.build_messages(history, message),
            "system": [{"text": self.system_prompt}],
        }
        if self.inference_config:
            request["inferenceConfig"] = self.inference_config
        try:
            response = self.client.converse(**request)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        except DeadlineExceeded as exc:
            raise ResponderUnavailable("the model could not answer within the time budget") from exc
        texts = [
            block["text"]
            for block in response.get("output", {}).get("message", {}).get("content", [])
            if isinstance(block, dict) and "text" in block
        ]
        reply = "".join(texts).strip()
        if not reply:
            raise ResponderFailed(f"the model returned no text (stopReason={response.get('stopReason')!r})")
        return reply


def read_timeout_for(budget: deadline.Deadline | None) -> float:
    """The read timeout of one Converse attempt for an invocation budget (``None``: the maximum).

    The whole budget minus the connect timeout and ``SAVE_RESERVE_SECONDS``, within
    ``MIN_READ_TIMEOUT_SECONDS``..``MAX_READ_TIMEOUT_SECONDS``: with a 10 s function Timeout a Converse
    attempt may read for 4 s, with 29 s for 20 s.
    """
    if budget is None:
        return MAX_READ_TIMEOUT_SECONDS
    room = budget.seconds - CONNECT_TIMEOUT_SECONDS - SAVE_RESERVE_SECONDS
    return min(MAX_READ_TIMEOUT_SECONDS, max(MIN_READ_TIMEOUT_SECONDS, room))


def _translate(exc: Exception) -> ResponderUnavailable | ResponderFailed:
    """The chat error for a botocore error: transient codes and connection problems are retryable."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ReadTimeoutError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_CODES:
            return ResponderUnavailable(f"the model is unavailable ({code})")
        return ResponderFailed(f"the model request failed ({code or 'unknown error'})")
    if isinstance(exc, ConnectionError | HTTPClientError | ReadTimeoutError):
        return ResponderUnavailable(f"the model could not be reached ({type(exc).__name__})")
    return ResponderFailed(f"the model request failed ({type(exc).__name__})")
