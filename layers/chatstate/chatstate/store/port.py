"""The ``SessionStore`` port: what every session storage adapter offers, with the same semantics.

The algorithm is written once, in ``chatstate.store.base.BaseSessionStore``; adapters implement a
few primitives: ``DynamoDBSessionStore`` (production) and ``InMemorySessionStore`` (tests, local).
Both pass ``tests/contract``. Semantics every adapter honours:

* A session is addressed by a ``SessionRef`` (channel + actor + session id); channels and actors
  never see each other's sessions, whatever characters the ids hold.
* Expiry is checked on every read: a session or message whose lifetime has passed is absent,
  whether or not the backend has deleted it yet. Every write refreshes the session's lifetime.
* Appends are atomic (one turn: its messages, and a state patch when given), gap-free in sequence
  and safe under concurrent writers. A state patch computed from an ``expected`` session whose state
  changed meanwhile raises ``StaleState`` (carrying the fresh session) instead of being applied.
* A turn may carry an ``origin`` tag (the request that caused it, e.g. Lex's
  ``originatingRequestId``); the newest turn's tag comes back as ``Session.origin`` on every read.
* A ``request_id`` already applied within the idempotency window raises ``DuplicateRequest``; the
  same id with another body fingerprint raises ``IdempotencyKeyReused``.

Cross-session values (global entries, user props) are a separate port: ``chatstate.store.props``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chatstate.models import (
    AppendResult,
    Channel,
    LoadedSession,
    Message,
    MessagePage,
    NewMessage,
    RequestRecord,
    Session,
    SessionListPage,
    SessionRef,
    SessionSummary,
    StatePatch,
    utc_now,
)

T = TypeVar("T")

Redactor = Callable[[str], str]
"""Returns the redacted form of a message text (or the text unchanged)."""

IDEMPOTENCY_SECONDS = 86_400
"""How long an applied request id (idempotency key) is remembered by default."""

MAX_PAGE_SIZE = 100
"""The most messages one ``page_messages`` call returns; the store refuses a ``limit`` outside 1..this."""

PAGE_SIZE_RULE = f"must be an integer from 1 to {MAX_PAGE_SIZE}"
"""What a refused page size is told (``InvalidRequest`` naming ``limit``)."""

INDEX_INTERVAL_SECONDS = 600
"""Default order bound of the conversation list: a turn moves its session's listed activity only when that is at
least this old, so a stateless turn rewrites the head (and the index entry) at most once per 10 minutes of activity."""

MAX_TITLE_CHARS = 200


class _NewSession:
    """Type of ``NEW_SESSION``."""

    _instance: _NewSession | None = None

    def __new__(cls) -> _NewSession:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEW_SESSION"


NEW_SESSION = _NewSession()
"""Pass as ``append(expected=...)`` when the caller read no live session and computed its state patch
from nothing: if a session appeared meanwhile, ``StaleState`` carries it instead of the patch being merged."""


@dataclass(frozen=True)
class StorePolicy:
    """Behaviour shared by every adapter: lifetimes, clock, redaction and idempotency memory."""

    ttl_seconds: int = 86_400
    now: Callable[[], datetime] = utc_now
    redactor: Redactor | None = None
    keep_original: bool = True
    idempotency_seconds: int = IDEMPOTENCY_SECONDS
    index_interval_seconds: int = INDEX_INTERVAL_SECONDS
    """The conversation list's order bound: a session's listed activity trails its real one by less than this."""
    listed_channels: frozenset[str] = frozenset({"api"})
    """Channels whose sessions are titled and listed (``list_sessions``)."""

    def __post_init__(self) -> None:
        if self.ttl_seconds < 60:
            raise ValueError("ttl_seconds must be at least 60")
        if self.idempotency_seconds < 1:
            raise ValueError("idempotency_seconds must be positive")
        if self.index_interval_seconds < 0:
            raise ValueError("index_interval_seconds must not be negative")

    @property
    def index_bound_seconds(self) -> int:
        """The effective order bound: ``index_interval_seconds``, at most half the session lifetime."""
        return min(self.index_interval_seconds, self.ttl_seconds // 2)

    @property
    def head_slack_seconds(self) -> int:
        """How much longer than the session the head item's TTL runs, so it is refreshed only now and then."""
        return self.ttl_seconds // 2

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
    """Durable chat sessions: metadata, per-session typed state and message history (one item per turn)."""

    policy: StorePolicy

    # -- sessions ---------------------------------------------------------------------------------
    @abstractmethod
    def create(self, ref: SessionRef, *, state: Mapping[str, Any] | None = None) -> Session:
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
        expected: Session | _NewSession | None = None,
        state: StatePatch | None = None,
        request_id: str | None = None,
        fingerprint: str | None = None,
        create: bool = True,
        origin: str | None = None,
        author: str | None = None,
    ) -> AppendResult:
        """Append one turn (messages and a state patch) atomically; creates the session if absent and ``create``.

        ``expected`` is the session as the caller loaded it (saves a read when it is still current).
        With ``expected`` and a ``state`` patch, the patch was computed from ``expected.state``: if the
        state changed meanwhile, ``StaleState`` carries the fresh session and nothing is written (re-run
        the turn on it); ``NEW_SESSION`` says the caller read no live session. Without ``expected`` the
        patch is merged key by key into the current state.
        Messages alone never conflict: they are retried on the newest turn.

        ``origin`` tags the turn with the request that caused it (no idempotency record, no extra
        write); ``Session.origin`` reads the newest turn's tag back with every load. If a concurrent
        append wrote a turn with the same ``origin`` after ``expected`` was read, ``StaleState``
        carries the fresh session, so the caller can leave out what that turn already recorded.

        ``author`` names the verified user who made the turn (kept on the turn; ``Session.author`` reads
        the newest turn's back), so a user's turns of a shared conversation can be exported and erased.

        Raises ``SessionNotFound`` (absent and not ``create``), ``StaleState``, ``DuplicateRequest``
        (``request_id`` applied within the idempotency window), ``IdempotencyKeyReused`` (same id,
        other ``fingerprint``), ``ConflictError`` (concurrent writers won every retry), ``ItemTooLarge``.
        """

    @abstractmethod
    def last_messages(self, ref: SessionRef, k: int) -> list[Message]:
        """The ``k`` most recent messages, oldest first (empty if the session is absent)."""

    @abstractmethod
    def page_messages(self, ref: SessionRef, *, limit: int = 20, cursor: str | None = None) -> MessagePage:
        """Page through the whole history newest-first; each page is returned oldest first.

        A page may hold fewer than ``limit`` messages when the backend's read page filled up; its
        ``next_cursor`` is then set. ``next_cursor`` is ``None`` only when no older message exists.
        Raises ``SessionNotFound`` if the session is absent and ``InvalidCursor`` for a cursor that
        is malformed or was issued for another session, actor, channel or incarnation.
        """

    # -- the conversation list ----------------------------------------------------------------------
    @abstractmethod
    def list_sessions(
        self, actor_id: str, *, channel: Channel = "api", limit: int = 20, cursor: str | None = None
    ) -> SessionListPage:
        """One page of the actor's live sessions of ``channel``, newest listed activity first (one index read).

        Pages are full while more sessions exist. A session's listed activity (``updated_at``) and counters
        trail its real ones by less than ``policy.index_interval_seconds``. Raises ``InvalidCursor``.
        """

    @abstractmethod
    def rename(self, ref: SessionRef, title: str) -> SessionSummary:
        """Set the session's title (one conditional write). Raises ``SessionNotFound``, ``ValueError`` (title)."""

    # -- a user's data (export, erase) ------------------------------------------------------------
    @abstractmethod
    def session_refs(
        self, actor_id: str, *, channel: Channel = "api", after: str | None = None
    ) -> tuple[list[tuple[SessionRef, str]], bool]:
        """A page of every indexed session of the actor (expired ones included), newest first, one read.

        Each ref comes with the position just after it (an ``after`` to continue from); the flag says
        whether more may follow the page.
        """

    @abstractmethod
    def history(
        self, ref: SessionRef, *, below: int | None = None, limit: int = 200, incarnation: int | None = None
    ) -> tuple[list[Message], int | None]:
        """Live messages of up to ``limit`` turns numbered below ``below`` (oldest first), and where to continue.

        Pages go from the newest turns back; the second value is the ``below`` of the next page (``None``: done).
        With the session's ``incarnation`` (from ``get``) a page is one read, else two.
        """

    @abstractmethod
    def wipe(self, ref: SessionRef) -> tuple[dict[str, int], bool]:
        """Delete a page of the session's items (turns, idempotency records; the head last, with its index entry).

        Returns counts by kind (``sessions``, ``turns``, ``requests``) and whether the session is gone.
        """

    @abstractmethod
    def link(self, user_id: str, ref: SessionRef, *, ttl_seconds: int) -> None:
        """Remember that verified user ``user_id`` spoke in the conversation ``ref`` (idempotent)."""

    @abstractmethod
    def links(self, user_id: str) -> list[SessionRef]:
        """The conversations linked to ``user_id`` (expired links included)."""

    @abstractmethod
    def authored_turns(self, ref: SessionRef, author: str) -> list[tuple[int, list[Message]]]:
        """The live turns ``author`` made in the conversation (any incarnation), oldest first: (number, messages)."""

    @abstractmethod
    def erase_authored(self, ref: SessionRef, author: str) -> int:
        """Delete every turn ``author`` made in the conversation (expired or not); returns how many."""

    @abstractmethod
    def unlink(self, user_id: str, ref: SessionRef) -> None:
        """Forget the link (idempotent)."""

    # -- idempotency ------------------------------------------------------------------------------
    @abstractmethod
    def find_request(self, ref: SessionRef, request_id: str, *, fingerprint: str | None = None) -> RequestRecord | None:
        """The record of ``request_id`` if applied within the window, else ``None``.

        Raises ``IdempotencyKeyReused`` when it was applied with another ``fingerprint``.
        """

    @abstractmethod
    def replay(self, ref: SessionRef, record: RequestRecord) -> list[Message]:
        """The messages the request of ``record`` wrote (oldest first; empty if they are gone)."""

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
