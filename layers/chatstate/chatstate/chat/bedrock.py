"""A responder backed by Amazon Bedrock's Converse API, with the last turns of the session as context.

The bedrock-runtime client is created lazily, once per responder (and so once per execution
environment, since the function builds one responder), or injected (tests: botocore ``Stubber``).
Bedrock's error codes are translated once, in ``_translate``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatstate.chat.errors import ResponderFailed, ResponderUnavailable
from chatstate.models import Message, Session

if TYPE_CHECKING:
    from botocore.client import BaseClient

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful, concise assistant in a chat application. Use the earlier turns of the conversation as context."
)
DEFAULT_INFERENCE_CONFIG: dict[str, Any] = {"maxTokens": 512, "temperature": 0.5}

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
    """

    def __init__(
        self,
        model_id: str,
        client: BaseClient | None = None,
        *,
        system_prompt: str | None = None,
        max_turns: int = 10,
        inference_config: dict[str, Any] | None = None,
    ) -> None:
        if not model_id:
            raise ValueError("model_id is required")
        self.model_id = model_id
        self.system_prompt = system_prompt or DEFAULT_SYSTEM_PROMPT
        self.max_turns = max(0, max_turns)
        self.inference_config = dict(DEFAULT_INFERENCE_CONFIG if inference_config is None else inference_config)
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> BaseClient:
        """The bedrock-runtime client, created on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    self._client = boto3.client(
                        "bedrock-runtime",
                        config=Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=20),
                    )
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
        texts = [
            block["text"]
            for block in response.get("output", {}).get("message", {}).get("content", [])
            if isinstance(block, dict) and "text" in block
        ]
        reply = "".join(texts).strip()
        if not reply:
            raise ResponderFailed(f"the model returned no text (stopReason={response.get('stopReason')!r})")
        return reply


def _translate(exc: Exception) -> ResponderUnavailable | ResponderFailed:
    """The chat error for a botocore error: transient codes and connection problems are retryable."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_CODES:
            return ResponderUnavailable(f"the model is unavailable ({code})")
        return ResponderFailed(f"the model request failed ({code or 'unknown error'})")
    if isinstance(exc, ConnectionError | ReadTimeoutError):
        return ResponderUnavailable(f"the model could not be reached ({type(exc).__name__})")
    return ResponderFailed(f"the model request failed ({type(exc).__name__})")
