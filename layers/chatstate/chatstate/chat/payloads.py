"""Inbound payloads (``extra="forbid"``) and outbound views of the chat API, with their size limits.

Limits (documented in docs/chat-api.md and enforced here):

* ``MAX_MESSAGE_CHARS`` (4,000): a longer ``message`` is rejected with ``PayloadTooLarge`` (HTTP 413);
  a message that is empty after stripping whitespace is an ``InvalidRequest`` (HTTP 400).
* ``MAX_STATE_BYTES`` (16 KiB of compact JSON): a larger initial ``state`` is ``PayloadTooLarge``.
* ``MAX_BODY_BYTES`` (64 KiB): any larger request body is ``PayloadTooLarge`` before it is parsed.
* ``limit`` of a message page: 1..``MAX_PAGE_SIZE`` (the store's bound, checked by the store),
  ``DEFAULT_PAGE_SIZE`` when absent.

Query and header parameters are declared as models too (``MessagePageQuery``, ``SendMessageHeaders``): each
field's ``title`` is the parameter's public name and its ``description`` the message of a 400 naming it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from chatstate.chat.errors import InvalidRequest, PayloadTooLarge
from chatstate.models import Message, Session
from chatstate.store.port import PAGE_SIZE_RULE

MAX_MESSAGE_CHARS = 4_000
MAX_STATE_BYTES = 16_384
MAX_BODY_BYTES = 65_536
MAX_STATE_KEYS = 100
DEFAULT_PAGE_SIZE = 20

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
"""Idempotency keys / request ids: 1..128 printable ASCII characters without spaces."""


_TOO_LARGE = "payload_too_large"


def _check_message(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > MAX_MESSAGE_CHARS:
        raise PydanticCustomError(_TOO_LARGE, "longer than {limit} characters", {"limit": MAX_MESSAGE_CHARS})
    return value


class SendMessageBody(BaseModel):
    """Body of ``POST /sessions/{session_id}/messages``: ``{"message": str}``."""

    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True)

    message: str

    _message = field_validator("message")(_check_message)


class CreateSessionBody(BaseModel):
    """Body of ``POST /sessions`` (optional): ``{"state": {...}}`` preloads per-session state."""

    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True)

    state: dict[str, Any] = Field(default_factory=dict)

    @field_validator("state")
    @classmethod
    def _state_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_STATE_KEYS:
            raise ValueError(f"at most {MAX_STATE_KEYS} keys")
        for key in value:
            if not key or len(key) > 255 or any(ord(ch) < 0x20 for ch in key):
                raise ValueError("keys must be 1..255 printable characters")
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_STATE_BYTES:
            raise PydanticCustomError(_TOO_LARGE, "larger than {limit} bytes", {"limit": MAX_STATE_BYTES})
        return value


class DirectInvokePayload(BaseModel):
    """The AgentCore-style direct invocation: ``{"message", "session_id", "actor_id"}`` (+ ``request_id``)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True)

    message: str
    session_id: str
    actor_id: str
    request_id: RequestId | None = None

    _message = field_validator("message")(_check_message)


class MessagePageQuery(BaseModel):
    """Query of ``GET /sessions/{session_id}/messages``: ``limit`` and ``cursor`` (both optional)."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    limit: int = Field(default=DEFAULT_PAGE_SIZE, title="limit", description=PAGE_SIZE_RULE)
    """An integer; its range (1..``MAX_PAGE_SIZE``) is the store's, checked once by ``page_messages``."""
    cursor: str | None = Field(default=None, title="cursor", description="must be a string")

    @field_validator("limit", mode="before")
    @classmethod
    def _digits(cls, value: object) -> object:
        if value is None or value == "":
            return DEFAULT_PAGE_SIZE
        if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,4}", value):
            raise ValueError("not a decimal integer")
        return value

    @field_validator("cursor", mode="before")
    @classmethod
    def _blank_cursor(cls, value: object) -> object:
        return value or None


class SendMessageHeaders(BaseModel):
    """Headers of ``POST /sessions/{session_id}/messages`` (names lower-cased, as API Gateway passes them)."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    idempotency_key: RequestId | None = Field(
        default=None,
        alias="idempotency-key",
        title="Idempotency-Key",
        description="must be 1..128 printable ASCII characters without spaces",
    )


def parse_params[M: BaseModel](model: type[M], params: Mapping[str, str] | None) -> M:
    """Validate query or header parameters as ``model``; an error is an ``InvalidRequest`` naming the parameter."""
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as exc:
        loc = exc.errors(include_url=False)[0]["loc"]
        name = str(loc[0]) if loc else ""
        info = next((f for n, f in model.model_fields.items() if name in (n, f.alias)), None)
        if info is None:  # pragma: no cover - every field declares its title and message
            raise InvalidRequest(name, "is invalid") from exc
        raise InvalidRequest(info.title or name, info.description or "is invalid") from exc


class SessionCreatedView(BaseModel):
    """201 body of ``POST /sessions``."""

    model_config = ConfigDict(defer_build=True)

    session_id: str
    created_at: datetime
    expires_at: datetime


class SessionView(BaseModel):
    """200 body of ``GET /sessions/{session_id}``."""

    model_config = ConfigDict(defer_build=True)

    session_id: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    message_count: int
    state: dict[str, Any]

    @classmethod
    def of(cls, session: Session) -> SessionView:
        """The public view of a stored session (no versions, request ids or internals)."""
        return cls(
            session_id=session.session_id,
            created_at=session.created_at,
            updated_at=session.updated_at,
            expires_at=session.expires_at,
            message_count=session.message_count,
            state=session.state,
        )


class MessageView(BaseModel):
    """One message as the API shows it (the redacted form when there is one)."""

    model_config = ConfigDict(defer_build=True)

    role: str
    content: str
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageView:
        """The public view of a stored message."""
        return cls(role=message.role, content=message.effective_content, created_at=message.created_at)


class MessagePageView(BaseModel):
    """200 body of ``GET /sessions/{session_id}/messages``."""

    model_config = ConfigDict(defer_build=True)

    messages: list[MessageView]
    next_cursor: str | None


class ChatTurn(BaseModel):
    """The outcome of one sent message: the reply and the user's message count after it."""

    model_config = ConfigDict(defer_build=True)

    session_id: str
    reply: str
    message_count: int
    replayed: bool = Field(default=False, description="True when a retried request id was answered from history.")


def decode_body(body: str | bytes | None, *, is_base64: bool = False) -> bytes:
    """The raw request body as bytes (base64-decoded when flagged), size-checked.

    Raises:
        InvalidRequest: the body is flagged base64 but is not valid base64.
        PayloadTooLarge: the body is larger than ``MAX_BODY_BYTES``.
    """
    if body is None:
        return b""
    raw = body.encode() if isinstance(body, str) else body
    if is_base64:
        if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise PayloadTooLarge("body", MAX_BODY_BYTES, "bytes")
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("body", "is flagged base64 but is not valid base64") from exc
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body", MAX_BODY_BYTES, "bytes")
    return raw


def parse_json_body[M: BaseModel](model: type[M], raw: bytes, *, optional: bool = False) -> M:
    """Validate a JSON body as ``model``; errors name the offending field.

    Args:
        model: The inbound payload model.
        raw: The decoded body.
        optional: An empty body means ``{}`` (otherwise it is a 400 naming ``body``).

    Raises:
        InvalidRequest: malformed JSON, not an object, missing/mistyped/unknown/empty fields.
        PayloadTooLarge: a field above its size limit.
    """
    if not raw.strip():
        if optional:
            return model()
        raise InvalidRequest("body", "a JSON object is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise translate_validation_error(exc, "body") from exc


def validate_payload[M: BaseModel](model: type[M], data: object) -> M:
    """Validate an already-decoded payload (direct invoke) as ``model``; errors name the field."""
    if not isinstance(data, dict):
        raise InvalidRequest("payload", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise translate_validation_error(exc, "payload") from exc


def translate_validation_error(exc: ValidationError, whole: str) -> InvalidRequest | PayloadTooLarge:
    """The chat error for the first problem of a pydantic ``ValidationError``, chosen by error type."""
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"]) or whole
    kind = error["type"]
    if kind == _TOO_LARGE:
        limit = int((error.get("ctx") or {}).get("limit", 0))
        return PayloadTooLarge(field, limit, "bytes" if field.startswith("state") else "characters")
    if kind == "json_invalid":
        return InvalidRequest(whole, "is not valid JSON")
    if kind in {"model_type", "model_attributes_type", "dict_type"} and not error["loc"]:
        return InvalidRequest(whole, "must be a JSON object")
    if kind == "missing":
        return InvalidRequest(field, "is required")
    if kind == "extra_forbidden":
        return InvalidRequest(field, "is not a known field")
    if kind == "string_type":
        return InvalidRequest(field, "must be a string")
    if kind == "dict_type":
        return InvalidRequest(field, "must be a JSON object")
    message = error["msg"].removeprefix("Value error, ")
    return InvalidRequest(field, message[:1].lower() + message[1:])
