"""Errors of the chat use cases (on top of ``chatstate.exceptions``), independent of HTTP.

``functions/agent_chat/chat_app.py`` maps every ``ChatSessionError`` subclass to an HTTP status once,
by type (see ``ERROR_TABLE`` there); the direct-invoke path uses the same table.
"""

from __future__ import annotations

from chatstate.exceptions import ChatSessionError
from chatstate.exceptions import InvalidRequest as InvalidRequest  # raised by the store too (a bad page size)


class PayloadTooLarge(ChatSessionError):
    """A message, a state object or the whole body is above its documented size limit."""

    def __init__(self, field: str, limit: int, unit: str = "characters") -> None:
        super().__init__(f"{field}: larger than the limit of {limit:,} {unit}")
        self.field = field
        self.limit = limit


class Unauthenticated(ChatSessionError):
    """The request carries no usable identity (no JWT ``sub`` claim, or an invalid one)."""


class ResponderError(ChatSessionError):
    """The responder (the model behind the chat) could not produce a reply."""


class ResponderUnavailable(ResponderError):
    """The model is throttled, not ready or unreachable; retrying later may succeed."""

    def __init__(self, message: str, *, retry_after_seconds: int = 2) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ResponderFailed(ResponderError):
    """The model rejected the request or failed in a way retrying will not fix."""
