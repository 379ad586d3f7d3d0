"""``DynamoDBSessionRepository``: Strands' ``SessionRepository`` on chatstate's DynamoDB session table.

Every method behaves as Strands' File/S3 repositories do (what raises ``SessionException``, what returns
``None``, ``list_messages``' limit and offset, ``update_message`` for redaction, multi-agent state), with
one difference: a write never overwrites. A turn, a message or an agent snapshot is a new item under a
conditional put keyed by the agent's next turn number; a message update or a multi-agent state update
is conditional on the version read. A lost race raises ``SessionConflict``.

Item layout: ``chatstate.strands.items``. ``DynamoDBSessionManager`` adds Strands' session-manager hooks.
"""

from __future__ import annotations

import logging
import zlib
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from strands.session.session_repository import SessionRepository
from strands.types.exceptions import SessionException
from strands.types.session import (
    Session,
    SessionAgent,
    SessionMessage,
    SessionType,
    decode_bytes_values,
    encode_bytes_values,
)

from chatstate.exceptions import ChatSessionError, ConflictError, ItemTooLarge
from chatstate.models import utc_now
from chatstate.store import capacity
from chatstate.store.base import WriteConflict
from chatstate.strands import items

if TYPE_CHECKING:
    from strands.multiagent.base import MultiAgentBase

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 86_400
DEFAULT_PAGE = 25
"""Turns read back by one Query when nothing tells how many are needed."""


class SessionConflict(SessionException, ConflictError):
    """Another writer stored a turn of this agent first; nothing of this one was written.

    The agent is reloaded from the table before its next invocation, which then sees the other turn.
    """


class SessionStoreError(SessionException, ChatSessionError):
    """DynamoDB refused or failed a request; ``retry_after_seconds`` is set when retrying may succeed."""

    def __init__(self, message: str, *, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class SessionTooLarge(SessionException, ItemTooLarge):
    """One invocation's turn would pass DynamoDB's 400 KB item limit; nothing was written."""


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _parse_iso(text: str | None, default: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if text else default
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class _AgentLog:
    """What this manager knows of one agent's stored turns."""

    turn: int = 0
    """Newest stored turn number (live or expired): the next write takes ``turn + 1``."""
    next_id: int = 0
    created_at: str | None = None
    snapshot: dict[str, Any] | None = None
    session_expires_at: int | None = None
    window: list[tuple[int, int, int]] = field(default_factory=list)
    """(turn, first message id, message count) of the live turns known, oldest first."""
    pending: list[SessionMessage] = field(default_factory=list)
    in_invocation: bool = False
    stale: bool = False


@dataclass(frozen=True)
class Condition:
    """When a backend may put an item.

    * ``new``: the key is free, or its item has expired;
    * ``version``: the item exists at ``version`` (0: it has never been updated);
    * ``live_version``: the item exists at ``version`` and has not expired.
    """

    kind: Literal["new", "version", "live_version"]
    version: int = 0


NEW = Condition("new")


class BaseSessionRepository(SessionRepository):
    """Strands' ``SessionRepository`` in chatstate's key space, written once over a backend's primitives.

    Like ``chatstate.store.base.BaseSessionStore``, the base owns every rule (ids, expiry on read, turn numbers
    as optimistic locks, TTL refreshes, paging back through turns, errors) and a backend implements six
    primitives on items in DynamoDB's low-level form (``chatstate.strands.items``):

    * ``_get_item(pk, sk)``: an item, expired or not;
    * ``_put_item(item, condition)``: put it if ``condition`` holds, else ``WriteConflict``;
    * ``_refresh(pk, sk, expires_at)``: set an existing item's ``expires_at``, else ``WriteConflict``;
    * ``_query(pk, lo, hi, limit, start)``: items with ``lo <= sk <= hi``, highest first, and where to go on;
    * ``_partition_keys(pk)`` and ``_delete(keys)``: every key of a partition, and deleting keys.

    Args:
        actor_id: Whose sessions these are: sessions of different actors never meet, whatever their ids.
        ttl_seconds: How long a turn lives after it was written (default 24 h); the session record's
            lifetime is pushed forward by activity.
        now: Clock returning an aware UTC datetime (tests).
    """

    def __init__(
        self,
        *,
        actor_id: str = "default",
        ttl_seconds: int | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.actor_id = items.check_id(actor_id, "actor_id")
        self.ttl_seconds = DEFAULT_TTL_SECONDS if ttl_seconds is None else int(ttl_seconds)
        if self.ttl_seconds < 60:
            raise ValueError("ttl_seconds must be at least 60")
        self._clock = now or utc_now
        self._logs: dict[tuple[str, str], _AgentLog] = {}
        self._multi_versions: dict[tuple[str, str], int] = {}

    # -- primitives ---------------------------------------------------------------------------------
    @abstractmethod
    def _get_item(self, pk: str, sk: str) -> items.Item | None:
        """The item, expired or not."""

    @abstractmethod
    def _put_item(self, item: items.Item, condition: Condition) -> None:
        """Put ``item`` if ``condition`` holds; ``WriteConflict`` otherwise."""

    @abstractmethod
    def _refresh(self, pk: str, sk: str, expires_at: int) -> None:
        """Set an existing item's ``expires_at``; ``WriteConflict`` if there is none."""

    @abstractmethod
    def _query(self, pk: str, lo: str, hi: str, limit: int | None, start: Any) -> tuple[list[items.Item], Any]:
        """One page of ``pk``'s items with ``lo <= sk <= hi``, highest first, and where to go on (``None``: the end).

        A page holds at most ``limit`` items (and what a backend's page size allows).
        """

    @abstractmethod
    def _partition_keys(self, pk: str) -> list[items.Item]:
        """Every key (``pk``, ``sk``) of the partition."""

    @abstractmethod
    def _delete(self, keys: list[items.Item]) -> None:
        """Delete the items of ``keys``."""

    # -- plumbing -----------------------------------------------------------------------------------
    def _now(self) -> datetime:
        moment = self._clock()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def _pk(self, session_id: str) -> str:
        return items.session_pk(self.actor_id, items.check_id(session_id, "session_id"))

    def _session_expiry(self, now: datetime) -> int:
        return items.epoch_seconds(now) + self.ttl_seconds + self.ttl_seconds // 2

    def _get(self, pk: str, sk: str) -> items.Item | None:
        item = self._get_item(pk, sk)
        return item if item and items.alive(item, self._now()) else None

    def _put(self, item: items.Item, condition: Condition) -> None:
        size = capacity.item_size(item)
        if size > capacity.MAX_ITEM_BYTES:
            raise SessionTooLarge(
                f"the turn would take {size} bytes, over DynamoDB's {capacity.MAX_ITEM_BYTES}-byte item limit",
                size=size,
                limit=capacity.MAX_ITEM_BYTES,
            )
        self._put_item(item, condition)

    # -- sessions -----------------------------------------------------------------------------------
    def create_session(self, session: Session, **kwargs: Any) -> Session:
        """Create a session; ``SessionException`` if a live one with this id exists."""
        now = self._now()
        item = items.document_item(
            self._pk(session.session_id), items.SESSION_SK, session.to_dict(), self._session_expiry(now)
        )
        try:
            self._put(item, NEW)
        except WriteConflict as exc:
            raise SessionException(f"Session {session.session_id} already exists") from exc
        return session

    def read_session(self, session_id: str, **kwargs: Any) -> Session | None:
        """The session, or ``None`` if absent or expired."""
        item = self._get(self._pk(session_id), items.SESSION_SK)
        return Session.from_dict(self._document(item)) if item else None

    @staticmethod
    def _document(item: items.Item) -> dict[str, Any]:
        """The JSON document of a session or multi-agent item (``SessionStoreError`` if corrupt)."""
        try:
            return items.item_document(item)
        except (KeyError, ValueError, TypeError) as exc:
            raise SessionStoreError("corrupt session item") from exc

    def delete_session(self, session_id: str, **kwargs: Any) -> None:
        """Delete a session and everything in it; ``SessionException`` if there is none."""
        keys = self._partition_keys(self._pk(session_id))
        if not keys:
            raise SessionException(f"Session {session_id} does not exist")
        keys.sort(key=lambda k: k["sk"]["S"] == items.SESSION_SK)  # the session record goes last
        self._delete(keys)
        for key in [k for k in self._logs if k[0] == session_id]:
            del self._logs[key]

    def _ensure_session(self, session_id: str) -> tuple[Session, int]:
        """The live session record (created if absent) and its expiry."""
        pk = self._pk(session_id)
        now = self._now()
        session = Session(session_id=session_id, session_type=SessionType.AGENT)
        expires = self._session_expiry(now)
        try:
            self._put(items.document_item(pk, items.SESSION_SK, session.to_dict(), expires), NEW)
            return session, expires
        except WriteConflict:
            item = self._get(pk, items.SESSION_SK)
            if item is None:  # deleted in between: try once more
                return self._ensure_session(session_id)
            return Session.from_dict(self._document(item)), items.item_expiry(item)

    def _touch_session(self, session_id: str, log: _AgentLog, now: datetime) -> None:
        """Push the session record's TTL forward when less than one TTL is left (once per half TTL)."""
        if log.session_expires_at is not None and log.session_expires_at - items.epoch_seconds(now) >= self.ttl_seconds:
            return
        expires = self._session_expiry(now)
        try:
            self._refresh(self._pk(session_id), items.SESSION_SK, expires)
        except WriteConflict:
            _, expires = self._ensure_session(session_id)
        log.session_expires_at = expires

    # -- reading turns ------------------------------------------------------------------------------
    def _read_back(
        self, session_id: str, agent_id: str, enough: Callable[[list[items.Turn]], bool], limit: int | None
    ) -> tuple[list[items.Turn], int]:
        """Live turns newest first, reading pages until ``enough(turns)``; and the newest turn number seen.

        Stops at the first expired turn (older ones expired before it).
        """
        pk = self._pk(session_id)
        lo, hi = items.turn_range(items.check_id(agent_id, "agent_id"))
        now = self._now()
        turns: list[items.Turn] = []
        newest = 0
        start: Any = None
        while True:
            found, start = self._query(pk, lo, hi, limit, start)
            for item in found:
                newest = max(newest, items.turn_number(item))
                if not items.alive(item, now):
                    return turns, newest
                try:
                    turns.append(items.item_to_turn(item))
                except (KeyError, ValueError, TypeError, zlib.error) as exc:
                    raise SessionStoreError("corrupt session item") from exc
            if start is None or enough(turns):
                return turns, newest
            window = turns[0].window if turns else 0
            if window > len(turns):  # the newest turn says how many more hold the window
                limit = window - len(turns)
            elif limit is not None:
                limit = max(limit, DEFAULT_PAGE)

    def _log_from(self, turns: list[items.Turn], newest: int) -> _AgentLog:
        """What the turns read say about an agent (``turns`` newest first)."""
        log = _AgentLog(turn=newest)
        if not turns:
            return log
        log.next_id = turns[0].next_id
        log.window = [(t.number, t.first_id, len(t.messages)) for t in reversed(turns)]
        log.session_expires_at = turns[0].session_expires_at
        for turn in turns:
            if turn.snapshot is not None:
                log.snapshot = {k: v for k, v in turn.snapshot.items() if k != "created_at"}
                log.created_at = turn.snapshot.get("created_at")
                break
        return log

    def _agent_log(self, session_id: str, agent_id: str) -> _AgentLog:
        """The cached log of an agent, or one read from its newest turn (one request)."""
        log = self._logs.get((session_id, agent_id))
        if log is None or log.stale:
            turns, newest = self._read_back(session_id, agent_id, bool, 1)
            log = self._log_from(turns, newest)
            self._logs[(session_id, agent_id)] = log
        return log

    @staticmethod
    def _messages_of(turn: items.Turn) -> list[SessionMessage]:
        stamp = _iso(turn.written_at)
        return [
            SessionMessage(
                message=decode_bytes_values(message),
                message_id=turn.first_id + index,
                redact_message=decode_bytes_values(turn.redactions[index]) if index in turn.redactions else None,
                created_at=stamp,
                updated_at=stamp,
            )
            for index, message in enumerate(turn.messages)
        ]

    @staticmethod
    def _reaches(turns: list[items.Turn], message_id: int) -> bool:
        return any(t.messages and t.first_id <= message_id for t in turns)

    # -- writing turns ------------------------------------------------------------------------------
    def _window_after(self, log: _AgentLog, number: int, first: int, count: int, offset: int) -> int:
        """How many turns, the new one included, hold the messages from ``offset`` on."""
        entries = [*log.window, (number, first, count)]
        held = 0
        for _, first_id, n in reversed(entries):
            if n and first_id + n - 1 < offset:
                break
            held += 1
        return held

    def _write_turn(
        self,
        session_id: str,
        agent_id: str,
        log: _AgentLog,
        messages: list[SessionMessage],
        snapshot: dict[str, Any] | None,
        *,
        written_at: datetime | None = None,
    ) -> None:
        """Store one turn with one conditional put; ``SessionConflict`` if another writer took its number."""
        now = self._now()
        self._touch_session(session_id, log, now)
        number = log.turn + 1
        first = messages[0].message_id if messages else log.next_id
        offset = 0
        if snapshot is not None:
            offset = int(snapshot.get("conversation_manager_state", {}).get("removed_message_count", 0) or 0)
            snapshot = {**snapshot, "created_at": log.created_at or _iso(now)}
        window = self._window_after(log, number, first, len(messages), offset)
        turn = items.Turn(
            number=number,
            written_at=written_at or now,
            expires_at=items.epoch_seconds(now) + self.ttl_seconds,
            first_id=first,
            messages=[encode_bytes_values(m.message) for m in messages],
            redactions={
                i: encode_bytes_values(m.redact_message) for i, m in enumerate(messages) if m.redact_message is not None
            },
            snapshot=snapshot,
            window=window,
            session_expires_at=log.session_expires_at,
        )
        item = items.turn_to_item(self._pk(session_id), agent_id, turn)
        try:
            self._put(item, NEW)
        except WriteConflict as exc:
            log.stale = True
            raise SessionConflict(
                f"agent {agent_id} of session {session_id} changed meanwhile; this turn was not stored"
            ) from exc
        log.turn = number
        log.next_id = max(log.next_id, first + len(messages))
        log.window = [*log.window, (number, first, len(messages))][-max(window, 1) :]
        if snapshot is not None:
            log.created_at = snapshot["created_at"]
            log.snapshot = {k: v for k, v in snapshot.items() if k != "created_at"}

    # -- agents -------------------------------------------------------------------------------------
    @staticmethod
    def _snapshot_of(session_agent: SessionAgent) -> dict[str, Any]:
        data = session_agent.to_dict()
        return {
            "state": data["state"],
            "conversation_manager_state": data["conversation_manager_state"],
            "_internal_state": data["_internal_state"],
        }

    def create_agent(self, session_id: str, session_agent: SessionAgent, **kwargs: Any) -> None:
        """Store an agent's first snapshot (a turn without messages)."""
        log = self._agent_log(session_id, session_agent.agent_id)
        log.created_at = session_agent.created_at
        self._write_turn(session_id, session_agent.agent_id, log, [], self._snapshot_of(session_agent))

    def read_agent(self, session_id: str, agent_id: str, **kwargs: Any) -> SessionAgent | None:
        """The agent's newest snapshot, or ``None`` if it has no live turn."""
        return self._read_agent(session_id, agent_id, 1)

    def _read_agent(self, session_id: str, agent_id: str, first_page: int) -> SessionAgent | None:
        turns, newest = self._read_back(session_id, agent_id, lambda ts: any(t.snapshot for t in ts), first_page)
        self._logs[(session_id, agent_id)] = self._log_from(turns, newest)
        for turn in turns:
            if turn.snapshot is not None:
                return SessionAgent.from_dict(
                    {
                        **turn.snapshot,
                        "agent_id": agent_id,
                        "updated_at": _iso(turn.written_at),
                    }
                )
        return None

    def update_agent(self, session_id: str, session_agent: SessionAgent, **kwargs: Any) -> None:
        """Store a new snapshot of an existing agent; ``SessionException`` if it does not exist."""
        log = self._agent_log(session_id, session_agent.agent_id)
        if log.snapshot is None and not log.window:
            raise SessionException(f"Agent {session_agent.agent_id} in session {session_id} does not exist")
        if log.created_at is None:  # the newest turns hold messages only: the agent's creation is further back
            found = self._read_agent(session_id, session_agent.agent_id, DEFAULT_PAGE)
            log = self._logs[(session_id, session_agent.agent_id)]
            log.created_at = found.created_at if found else None
        if log.created_at:
            session_agent.created_at = log.created_at
        self._write_turn(session_id, session_agent.agent_id, log, [], self._snapshot_of(session_agent))

    # -- messages -----------------------------------------------------------------------------------
    def create_message(self, session_id: str, agent_id: str, session_message: SessionMessage, **kwargs: Any) -> None:
        """Store one message as its own turn; ``SessionConflict`` if its id is taken or another writer came first."""
        items.check_message_id(session_message.message_id)
        log = self._agent_log(session_id, agent_id)
        if session_message.message_id < log.next_id:
            raise SessionConflict(f"Message {session_message.message_id} already exists")
        written = _parse_iso(session_message.created_at, self._now())
        self._write_turn(session_id, agent_id, log, [session_message], None, written_at=written)

    def _find(self, session_id: str, agent_id: str, message_id: int) -> tuple[items.Turn | None, int]:
        """The live turn holding ``message_id`` (or ``None``), reading back from the newest."""
        turns, _ = self._read_back(session_id, agent_id, lambda ts: self._reaches(ts, message_id), 2)
        for turn in turns:
            if turn.messages and turn.first_id <= message_id < turn.next_id:
                return turn, message_id - turn.first_id
        return None, -1

    def read_message(self, session_id: str, agent_id: str, message_id: int, **kwargs: Any) -> SessionMessage | None:
        """One message, or ``None``."""
        items.check_message_id(message_id)
        turn, index = self._find(session_id, agent_id, message_id)
        return self._messages_of(turn)[index] if turn else None

    def update_message(self, session_id: str, agent_id: str, session_message: SessionMessage, **kwargs: Any) -> None:
        """Replace a stored message (redaction); ``SessionException`` if it does not exist.

        The turn holding it is rewritten only if no one changed it since it was read.
        """
        message_id = items.check_message_id(session_message.message_id)
        turn, index = self._find(session_id, agent_id, message_id)
        if turn is None:
            raise SessionException(f"Message {message_id} does not exist")
        session_message.created_at = _iso(turn.written_at)
        turn.messages[index] = encode_bytes_values(session_message.message)
        if session_message.redact_message is not None:
            turn.redactions[index] = encode_bytes_values(session_message.redact_message)
        else:
            turn.redactions.pop(index, None)
        previous = turn.version
        turn.version += 1
        item = items.turn_to_item(self._pk(session_id), agent_id, turn)
        try:
            self._put(item, Condition("version", previous))
        except WriteConflict as exc:
            raise SessionConflict(f"Message {message_id} changed meanwhile; not updated") from exc

    def list_messages(
        self, session_id: str, agent_id: str, limit: int | None = None, offset: int = 0, **kwargs: Any
    ) -> list[SessionMessage]:
        """Messages from id ``offset`` on (``limit`` of them when given), oldest first; empty for an unknown agent."""
        turns, _ = self._read_back(
            session_id, agent_id, lambda ts: self._reaches(ts, offset), kwargs.get("page_hint", DEFAULT_PAGE)
        )
        found = [m for turn in reversed(turns) for m in self._messages_of(turn) if m.message_id >= offset]
        return found if limit is None else found[:limit]

    # -- multi-agent state --------------------------------------------------------------------------
    def create_multi_agent(self, session_id: str, multi_agent: MultiAgentBase, **kwargs: Any) -> None:
        """Store a multi-agent's first state; ``SessionConflict`` if a live one exists."""
        pk = self._pk(session_id)
        sk = items.multi_agent_sk(items.check_id(multi_agent.id, "multi_agent_id"))
        now = self._now()
        item = items.document_item(
            pk, sk, multi_agent.serialize_state(), items.epoch_seconds(now) + self.ttl_seconds, 1
        )
        try:
            self._put(item, NEW)
        except WriteConflict as exc:
            raise SessionConflict(f"MultiAgent state {multi_agent.id} in session {session_id} already exists") from exc
        self._multi_versions[(session_id, multi_agent.id)] = 1

    def read_multi_agent(self, session_id: str, multi_agent_id: str, **kwargs: Any) -> dict[str, Any] | None:
        """A multi-agent's state, or ``None``."""
        item = self._get(self._pk(session_id), items.multi_agent_sk(items.check_id(multi_agent_id, "multi_agent_id")))
        if item is None:
            return None
        self._multi_versions[(session_id, multi_agent_id)] = items.item_version(item)
        return self._document(item)

    def update_multi_agent(self, session_id: str, multi_agent: MultiAgentBase, **kwargs: Any) -> None:
        """Replace a multi-agent's state if unchanged since this manager last read or wrote it."""
        version = self._multi_versions.get((session_id, multi_agent.id))
        if version is None:
            if self.read_multi_agent(session_id, multi_agent.id) is None:
                raise SessionException(f"MultiAgent state {multi_agent.id} in session {session_id} does not exist")
            version = self._multi_versions[(session_id, multi_agent.id)]
        now = self._now()
        item = items.document_item(
            self._pk(session_id),
            items.multi_agent_sk(multi_agent.id),
            multi_agent.serialize_state(),
            items.epoch_seconds(now) + self.ttl_seconds,
            version + 1,
        )
        try:
            self._put(item, Condition("live_version", version))
        except WriteConflict as exc:
            self._multi_versions.pop((session_id, multi_agent.id), None)
            raise SessionConflict(f"MultiAgent state {multi_agent.id} changed meanwhile; not updated") from exc
        self._multi_versions[(session_id, multi_agent.id)] = version + 1
