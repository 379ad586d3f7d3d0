"""Pydantic models of what the session store keeps: sessions, messages, state and paging."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

SCHEMA_VERSION = 2
"""Layout version of stored items (2: one item per turn, head + state item, idempotency records)."""

SessionId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@\-]+$")]
"""Session ids: 1..128 characters of letters, digits and ``. _ : @ -`` (never ``#``)."""

ActorId = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f]+$")]
"""Actor ids (JWT ``sub``, a Lex bot id, a direct caller's id): 1..256 printable characters."""

StateKey = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]+$")]
"""Keys of per-session state, global entries and user props."""

Role = Literal["user", "assistant", "system", "tool"]

Channel = Literal["api", "lex", "direct"]
"""Where a session lives: the HTTP API (actor = JWT ``sub``), a Lex bot (actor = bot id) or a direct
invoke (actor = the caller-supplied id). Channels are disjoint key spaces in the store: no actor or
session id string can address another channel's sessions."""

T = TypeVar("T")

_JSON_VALUE: TypeAdapter[Any] = TypeAdapter(Any)
_SESSION_ID: TypeAdapter[str] = TypeAdapter(SessionId)
_ACTOR_ID: TypeAdapter[str] = TypeAdapter(ActorId)


def utc_now() -> datetime:
    """The default clock: the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class SessionRef(BaseModel):
    """Which session: the channel, the owning actor and the session id. Every session operation takes one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: ActorId
    session_id: SessionId
    channel: Channel = "api"

    @classmethod
    def of(cls, actor_id: str, session_id: str, channel: Channel = "api") -> SessionRef:
        """Build a ref, validating both ids (raises ``pydantic.ValidationError``)."""
        return cls(
            actor_id=_ACTOR_ID.validate_python(actor_id),
            session_id=_SESSION_ID.validate_python(session_id),
            channel=channel,
        )

    @classmethod
    def lex(cls, bot_id: str, session_id: str) -> SessionRef:
        """The ref of a Lex V2 conversation: channel ``lex``, actor = the bot id."""
        return cls.of(bot_id, session_id, "lex")


class NewMessage(BaseModel):
    """A message to append; the store assigns its sequence number and timestamp."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str


class Message(BaseModel):
    """A stored message (one event of a session's history)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    seq: int = Field(ge=1, description="Position in the session, 1-based, gap-free.")
    role: Role
    content: str
    created_at: datetime
    redacted: str | None = Field(default=None, description="Redacted form, when a redactor changed the text.")

    @property
    def effective_content(self) -> str:
        """The text to replay to a model or a user: the redacted form when there is one."""
        return self.redacted if self.redacted is not None else self.content


class RequestRecord(BaseModel):
    """What an applied request id wrote, so that a retry inside the window is answered without writing again."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    request_id: str
    incarnation: int = 0
    turn: int = Field(default=0, ge=0, description="The turn the request wrote.")
    first_seq: int
    last_seq: int
    message_count: int
    applied_at: datetime
    expires_at: datetime | None = None
    fingerprint: str | None = Field(default=None, description="Digest of the request body the key was first used with.")


class Session(BaseModel):
    """Session metadata plus its per-session state (values are JSON-compatible)."""

    model_config = ConfigDict(extra="ignore")

    session_id: SessionId
    actor_id: ActorId
    channel: Channel = "api"
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    message_count: int = Field(default=0, ge=0, description="Messages with role 'user'.")
    event_count: int = Field(default=0, ge=0, description="All messages; also the last sequence number.")
    turns: int = Field(
        default=0, ge=0, description="Turns written (each turn is one stored item); the newest turn's number."
    )
    version: int = Field(default=1, ge=1, description="State version: bumped on every state change (optimistic lock).")
    incarnation: int = Field(default=0, description="Distinguishes a re-created session from an earlier one.")
    schema_version: int = SCHEMA_VERSION
    state: dict[str, Any] = Field(default_factory=dict)
    head_expires_at: datetime | None = Field(
        default=None, exclude=True, description="Store bookkeeping: when TTL may delete the head item."
    )
    origin: str | None = Field(
        default=None,
        exclude=True,
        description="The tag of the request that wrote the newest turn (``append(origin=...)``), if it had one.",
    )
    author: str | None = Field(
        default=None,
        exclude=True,
        description="The verified user who made the newest turn (``append(author=...)``), if one was signed in.",
    )
    title: str | None = Field(default=None, description="The conversation's title (derived or renamed).")
    listed_at: datetime | None = Field(
        default=None, exclude=True, description="Store bookkeeping: the activity time the conversation list holds."
    )

    @property
    def ref(self) -> SessionRef:
        """The ref that addresses this session."""
        return SessionRef(actor_id=self.actor_id, session_id=self.session_id, channel=self.channel)

    def get(self, key: str, model: type[T] | None = None, default: Any = None) -> Any:
        """Typed read of one state value: validated as ``model`` when given, else the raw JSON value."""
        if key not in self.state:
            return default
        value = self.state[key]
        return adapter_for(model).validate_python(value) if model is not None else value


class SessionSummary(BaseModel):
    """One conversation as the list shows it (values as of its listed activity)."""

    session_id: SessionId
    title: str | None = None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    message_count: int = 0


class SessionListPage(BaseModel):
    """One page of an actor's conversations, newest activity first; ``next_cursor`` pages to older ones."""

    sessions: list[SessionSummary]
    next_cursor: str | None = None


class LoadedSession(BaseModel):
    """A session with its most recent messages, as one Query returns them (oldest first)."""

    session: Session
    recent: list[Message] = Field(default_factory=list)


class MessagePage(BaseModel):
    """One page of a session's history, oldest first; ``next_cursor`` pages back to older ones."""

    messages: list[Message]
    next_cursor: str | None = None


class AppendResult(BaseModel):
    """The session after an append, and the messages as stored (with sequence numbers)."""

    session: Session
    messages: list[Message]


class StatePatch(BaseModel):
    """A change to per-session state, merged key by key so concurrent writers do not clobber each other."""

    model_config = ConfigDict(extra="forbid")

    values: dict[StateKey, Any] = Field(default_factory=dict)
    """Keys set (or replaced) with these JSON-compatible values."""
    remove: frozenset[StateKey] = Field(default_factory=frozenset)
    """Keys removed."""

    @classmethod
    def of(
        cls, values: Mapping[str, Any] | None = None, *, remove: set[str] | frozenset[str] = frozenset()
    ) -> StatePatch:
        """Build a patch from plain values (models are dumped to JSON-compatible data)."""
        return cls(values={k: to_jsonable(v) for k, v in (values or {}).items()}, remove=frozenset(remove))

    def __bool__(self) -> bool:
        return bool(self.values or self.remove)

    def apply_to(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The state after this patch."""
        merged = {k: v for k, v in state.items() if k not in self.remove}
        merged.update(self.values)
        return merged


class GlobalEntry(BaseModel):
    """A cross-session value (e.g. a shared configuration or cache entry)."""

    key: StateKey
    value: Any
    updated_at: datetime
    expires_at: datetime | None = None


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter_for(model: Any) -> TypeAdapter[Any]:
    """A cached ``TypeAdapter`` for any type (models, lists, unions...)."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def to_jsonable(value: Any) -> Any:
    """Turn models, enums, datetimes, sets... into plain JSON-compatible Python values."""
    if isinstance(value, str | int | bool | type(None)) and not hasattr(value, "value"):
        return value
    return _JSON_VALUE.dump_python(value, mode="json")
