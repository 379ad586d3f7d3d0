"""Agent chat: the use cases behind ``AgentChatFunction`` (HTTP API and direct invoke), without HTTP.

``ChatService`` (``service.py``) runs the use cases on a ``SessionStore`` and a ``Responder``
(``responders.py``: the built-in ``EchoMemoryResponder``; ``bedrock.py``: ``BedrockConverseResponder``).
Inbound payloads and their limits live in ``payloads.py``; errors in ``errors.py``.
"""

from __future__ import annotations

from chatstate.chat.errors import (
    InvalidRequest,
    PayloadTooLarge,
    ResponderError,
    ResponderFailed,
    ResponderUnavailable,
    Unauthenticated,
)
from chatstate.chat.payloads import MAX_MESSAGE_CHARS, MAX_STATE_BYTES, ChatTurn
from chatstate.chat.responders import EchoMemoryResponder, Responder, responder_from_settings
from chatstate.chat.service import ChatService

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_STATE_BYTES",
    "ChatService",
    "ChatTurn",
    "EchoMemoryResponder",
    "InvalidRequest",
    "PayloadTooLarge",
    "Responder",
    "ResponderError",
    "ResponderFailed",
    "ResponderUnavailable",
    "Unauthenticated",
    "responder_from_settings",
]
