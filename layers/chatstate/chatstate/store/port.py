"""The ``SessionStore`` port: what every storage adapter offers, with the same semantics.

Adapters: ``DynamoDBSessionStore`` (production) and ``InMemorySessionStore`` (tests, local). Both pass
``tests/contract``. Semantics every adapter honours:

* A session is addressed by a ``SessionRef`` (actor + session id); an actor never sees another's.
* Expiry is checked on every read: an item whose ``expires_at`` has passed is absent, whether or not
  the backend has deleted it yet. Every write refreshes the session's ``expires_at``.
* Appends are atomic (messages + metadata + state patch, all or nothing), gap-free in sequence and
  safe under concurrent writers; a ``request_id`` already applied raises ``DuplicateRequest``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chatstate.models import (
    AppendResult,
    GlobalEntry,
    LoadedSession,
    Message,
    MessagePage,
    NewMessage,
    Session,
    SessionRef,
    StatePatch,
    adapter_for,
    utc_now,
)

T = TypeVar("T")

Redactor = Callable[[str], str]
"""Returns the redacted form of a message text (or the text unchanged)."""

MAX_RECENT_REQUESTS = 16
"""How many applied request ids a session remembers for idempotent retries."""

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class StorePolicy:
    """Behaviour shared by every adapter: lifetimes, clock, redaction and idempotency memory."""

    ttl_seconds: int = 86_400
    now: Callable[[], datetime] = utc_now
    redactor: Redactor | None = None
    keep_original: bool = True
    recent_requests: int = MAX_RECENT_REQUESTS
    global_ttl_seconds: int | None = None

    def __post_init__(self) -> None:
        if self.ttl_seconds < 60:
            raise ValueError("ttl_seconds must be at least 60")

    def expiry_from(self, moment: datetime, ttl_seconds: int | None = None) -> datetime:
        """The expiry of something written at ``moment``, truncated to whole seconds (TTL precision)."""
        expires = moment + timedelta(seconds=ttl_seconds or self.ttl_seconds)
        return expires.replace(microsecond=0)

    def redact(self, text: str) -> tuple[str, str | None]:
        """(content to store, redacted form or None) for one message text."""
        if self.redactor is None:
            return text, None
        redacted = self.redactor(text)
        if redacted == text:
            return text, None
        return (text if self.keep_original else redacted), redacted


class SessionStore(ABC):
    """Durable chat sessions: metadata, message history, per-session state, global entries, user props."""

    policy: StorePolicy

    # -- sessions ---------------------------------------------------------------------------------
    @abstractmethod
    def create(self, ref: SessionRef, *, channel: str = "api", state: Mapping[str, Any] | None = None) -> Session:
        """Create a session, optionally preloaded with state. Raises ``SessionExists`` if one is live."""

    @abstractmethod
    def get(self, ref: SessionRef) -> Session | None:
        """The session's metadata and state, or ``None`` if absent, expired or deleted."""

    @abstractmethod
    def load(self, ref: SessionRef, *, last: int = 10) -> LoadedSession | None:
        """The session with its ``last`` most recent messages (oldest first), in one read."""

    @abstractmethod
    def delete(self, ref: SessionRef) -> bool:
        """Delete the session and its history. ``False`` if there was no live session."""

    # -- history ----------------------------------------------------------------------------------
    @abstractmethod
    def append(
        self,
        ref: SessionRef,
        messages: Sequence[NewMessage],
        *,
        expected: Session | None = None,
        state: StatePatch | None = None,
        request_id: str | None = None,
        channel: str = "api",
        create: bool = True,
    ) -> AppendResult:
        """Append messages (and merge a state patch) atomically; creates the session if absent and ``create``.

        ``expected`` is the session as the caller loaded it (saves a read when it is still current).
        Raises ``SessionNotFound`` (absent and not ``create``), ``DuplicateRequest`` (``request_id``
        already applied), ``ConflictError`` (concurrent writers won every retry), ``ItemTooLarge``.
        """

    @abstractmethod
    def last_messages(self, ref: SessionRef, k: int) -> list[Message]:
        """The ``k`` most recent messages, oldest first (empty if the session is absent)."""

    @abstractmethod
    def page_messages(self, ref: SessionRef, *, limit: int = 20, cursor: str | None = None) -> MessagePage:
        """Page through the whole history newest-first; each page is returned oldest first.

        Raises ``SessionNotFound`` if the session is absent and ``InvalidCursor`` for a cursor that
        is malformed or was issued for another session, actor or incarnation.
        """

    @abstractmethod
    def messages_between(self, ref: SessionRef, first_seq: int, last_seq: int) -> list[Message]:
        """Messages with ``first_seq <= seq <= last_seq`` (used to answer a retried request)."""

    # -- per-session state ------------------------------------------------------------------------
    @abstractmethod
    def update_state(self, ref: SessionRef, patch: StatePatch) -> Session:
        """Merge a state patch into a live session. Raises ``SessionNotFound``."""

    @abstractmethod
    def clear(self, ref: SessionRef, *, retain: Iterable[str] = ()) -> Session:
        """Remove every state key except those in ``retain``. Raises ``SessionNotFound``."""

    def save(self, ref: SessionRef, key: str, value: Any) -> None:
        """Save one state value (models, enums, datetimes... are stored as JSON)."""
        self.update_state(ref, StatePatch.of({key: value}))

    def evict(self, ref: SessionRef, *keys: str) -> None:
        """Remove state keys (missing keys are ignored)."""
        self.update_state(ref, StatePatch.of(remove=set(keys)))

    def fetch_all(self, ref: SessionRef) -> dict[str, Any]:
        """All state values of a session (empty if absent)."""
        session = self.get(ref)
        return dict(session.state) if session else {}

    def get_value(self, ref: SessionRef, key: str, model: type[T] | None = None, default: Any = None) -> Any:
        """One state value, validated as ``model`` when given (raises ``pydantic.ValidationError``)."""
        session = self.get(ref)
        return session.get(key, model, default) if session else default

    # -- global entries ---------------------------------------------------------------------------
    @abstractmethod
    def save_global(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> GlobalEntry:
        """Save a cross-session entry."""

    @abstractmethod
    def get_global_entry(self, key: str) -> GlobalEntry | None:
        """A cross-session entry, or ``None`` if absent or expired."""

    @abstractmethod
    def evict_global(self, key: str) -> None:
        """Remove a cross-session entry."""

    def get_global(self, key: str, model: type[T] | None = None, default: Any = None) -> Any:
        """A cross-session value, validated as ``model`` when given."""
        entry = self.get_global_entry(key)
        if entry is None:
            return default
        return adapter_for(model).validate_python(entry.value) if model is not None else entry.value

    # -- per-user props ---------------------------------------------------------------------------
    @abstractmethod
    def save_user_props(self, actor_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Merge props into an actor's props (kept across sessions); returns all props."""

    @abstractmethod
    def get_user_props(self, actor_id: str) -> dict[str, Any]:
        """All props of an actor (empty if none or expired)."""

    @abstractmethod
    def evict_user_props(self, actor_id: str, *keys: str) -> None:
        """Remove some props of an actor."""
