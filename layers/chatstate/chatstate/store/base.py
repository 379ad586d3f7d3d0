"""``BaseSessionStore``: the session store algorithm, written once for every backend.

Like Powertools' idempotency persistence layer, the base owns every rule (liveness and expiry,
create-or-continue, the optimistic-concurrency retry loop and its time budget, stale-state detection,
idempotency windows, paging and cursors, error messages) and a backend implements six primitives on
plain records (``chatstate.store.records``). The base knows no backend's item layout: how a record is
stored, and whether it fits the backend's item size limit, is the backend's.

* ``_read(ref, turns)``: the head and the newest ``turns`` turns of its incarnation, one request;
* ``_read_turns(ref, incarnation, below, limit)``: older turns, newest first, one request;
* ``_get_head(ref)``: the head alone;
* ``_write(ref, incarnation, turn=, head=, request=)``: put a turn if its number is free, and/or a
  head write and an idempotency record, all or nothing; raises ``WriteConflict`` naming what failed,
  or ``ItemTooLarge`` before writing anything (the item layout and its size are the backend's);
* ``_get_request(ref, request_id)``: an idempotency record;
* ``_purge(ref, incarnation)``: delete the head if it holds ``incarnation``, then (best effort) the
  turns and records of that incarnation and older ones.

The conversation list and a user's data add ``_list`` (index entries of an actor, newest activity
first), ``_rename``, ``_wipe`` (a page of a session's items, head last), ``_authored`` /
``_delete_authored`` (one user's turns of a shared conversation) and ``_put_link`` / ``_links`` /
``_delete_link`` (the conversations a verified user spoke in).

Results are assembled with ``model_construct``: their parts are the store's own records, validated when they were
written, so a read or an append never re-validates them (nor builds the result models' schemas).

Listed sessions (``StorePolicy.listed_channels``) carry a title and a listed activity on the head:
the first turn with a user message sets the title (on the head write that creates the session, or a
touch), and a stateless turn moves the listed activity (a head touch, in the turn's own write) only
when it is at least ``StorePolicy.index_interval_seconds`` old. So a stateless turn rewrites the head
at most once per interval of activity, and the list's order is exact to within that interval.

Lifetimes: a turn lives one TTL after it was written; the session lives as long as its newest turn
or its head's last write, whichever is later. The head's own TTL attribute runs ``ttl + slack``
(``StorePolicy.head_slack_seconds``) and is pushed forward on a turn only when fewer than one TTL
is left, so TTL never deletes the head under a live session, and stateless turns rarely rewrite it.
"""

from __future__ import annotations

import logging
import math
import random
import time
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chatstate import deadline
from chatstate.exceptions import (
    ConflictError,
    DuplicateRequest,
    IdempotencyKeyReused,
    InvalidCursor,
    SessionExists,
    SessionNotFound,
    StaleState,
)
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
    to_jsonable,
)
from chatstate.store import items, logic
from chatstate.store.port import MAX_TITLE_CHARS, NEW_SESSION, SessionStore, StorePolicy, _NewSession
from chatstate.store.records import ABOVE_EVERY_TURN, Head, HeadWrite, Snapshot, Turn
from chatstate.store.records import WriteConflict as WriteConflict  # what the primitives raise

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 30


def _not_found(ref: SessionRef) -> SessionNotFound:
    return SessionNotFound(f"no live session {ref.session_id!r}")


def _backoff(attempt: int) -> None:
    """Full-jitter exponential backoff between attempts (the first retry is immediate), capped by the budget."""
    if not attempt:
        return
    delay = random.uniform(0, min(0.25, 0.01 * 2**attempt))  # noqa: S311 - jitter, not crypto
    left = deadline.remaining_seconds()
    if left is not None:
        delay = min(delay, left)
    if delay > 0:
        time.sleep(delay)


class BaseSessionStore(SessionStore):
    """The store algorithm over a backend's primitives (see the module docstring).

    Args:
        policy: Lifetimes, clock, redaction, idempotency window (``StorePolicy``).
        max_attempts: Optimistic-concurrency attempts before ``ConflictError``.
    """

    def __init__(self, policy: StorePolicy | None = None, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        self.policy = policy or StorePolicy()
        self.max_attempts = max_attempts

    # -- primitives -------------------------------------------------------------------------------
    @abstractmethod
    def _read(self, ref: SessionRef, turns: int) -> Snapshot:
        """The head and up to ``turns`` newest turns of the head's incarnation (expired or not), newest first."""

    @abstractmethod
    def _read_turns(self, ref: SessionRef, incarnation: int, below: int, limit: int) -> tuple[list[Turn], bool]:
        """Up to ``limit`` turns numbered below ``below``, newest first, and whether more may follow."""

    @abstractmethod
    def _get_head(self, ref: SessionRef) -> Head | None:
        """The head record, expired or not."""

    @abstractmethod
    def _write(
        self,
        ref: SessionRef,
        incarnation: int,
        *,
        turn: Turn | None = None,
        head: HeadWrite | None = None,
        request: RequestRecord | None = None,
    ) -> None:
        """Write all or nothing; raises ``WriteConflict`` naming the items whose condition failed.

        ``turn`` only if its number is free in ``incarnation``; ``head`` under its condition;
        ``request`` only if its id is absent or expired. Raises ``ItemTooLarge`` before anything is
        written if the turn or the head would pass the backend's item size limit.
        """

    @abstractmethod
    def _get_request(self, ref: SessionRef, request_id: str) -> RequestRecord | None:
        """An idempotency record, expired or not."""

    @abstractmethod
    def _purge(self, ref: SessionRef, incarnation: int) -> bool:
        """Delete the head if it holds ``incarnation`` (``False`` if not), then best-effort older items."""

    @abstractmethod
    def _list(
        self, scope: str, floor: datetime | None, after: tuple[int, str] | None, limit: int
    ) -> list[tuple[str, Head]]:
        """Up to ``limit`` index entries of ``scope`` (session id, projected head), newest activity first.

        Only entries with activity above ``floor`` (all when ``None``), strictly after ``after`` =
        (activity ms, session id) in that order. One index read.
        """

    @abstractmethod
    def _rename(
        self, ref: SessionRef, title: str, now: datetime, head_after: datetime, activity_after: datetime
    ) -> Head | None:
        """Set the title and bump the version; the head after, or ``None``.

        Only if the head lives past ``head_after`` or its activity is after ``activity_after``; an unlisted
        head gets listed.
        """

    @abstractmethod
    def _wipe(self, ref: SessionRef) -> tuple[dict[str, int], bool]:
        """Delete one page of the partition's items, the head only once nothing else is left."""

    @abstractmethod
    def _authored(self, ref: SessionRef, author: str) -> list[tuple[int, Turn]]:
        """Every turn of the partition (any incarnation, expired or not) made by ``author``: (incarnation, turn)."""

    @abstractmethod
    def _delete_authored(self, ref: SessionRef, author: str) -> int:
        """Delete every turn of the partition made by ``author``; how many."""

    @abstractmethod
    def _put_link(self, user_id: str, ref: SessionRef, expires_at: datetime) -> None:
        """Write (or refresh) the user's link to ``ref``."""

    @abstractmethod
    def _links(self, user_id: str) -> list[SessionRef]:
        """Every link of the user, expired or not."""

    @abstractmethod
    def _delete_link(self, user_id: str, ref: SessionRef) -> None:
        """Delete the user's link to ``ref``."""

    # -- lifetimes --------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return logic.now_ms(self.policy)

    def _expiry(self, now: datetime) -> datetime:
        return self.policy.expiry_from(now)

    def _head_expiry(self, now: datetime) -> datetime:
        return self.policy.expiry_from(now, self.policy.ttl_seconds + self.policy.head_slack_seconds)

    def _head_lives_until(self, head: Head) -> datetime:
        return head.expires_at - timedelta(seconds=self.policy.head_slack_seconds)

    def _session(self, ref: SessionRef, head: Head | None, newest: Turn | None, now: datetime) -> Session | None:
        """The live session described by a head and its newest turn, or ``None`` (absent or expired)."""
        if head is None:
            return None
        expires = self._head_lives_until(head)
        updated = head.updated_at
        turns, events, users = head.turns, head.event_count, head.message_count
        origin = author = None
        if newest is not None:
            expires, updated = max(expires, newest.expires_at), max(updated, newest.created_at)
            if newest.number >= turns:
                turns, events, users = newest.number, newest.event_count, newest.message_count
                origin, author = newest.origin, newest.author
        if not logic.alive(expires, now):
            return None
        return Session.model_construct(
            session_id=ref.session_id,
            actor_id=ref.actor_id,
            channel=ref.channel,
            created_at=head.created_at,
            updated_at=updated,
            expires_at=expires,
            message_count=users,
            event_count=events,
            turns=turns,
            version=head.version,
            incarnation=head.incarnation,
            schema_version=head.schema_version,
            state=head.state,
            head_expires_at=head.expires_at,
            origin=origin,
            author=author,
            title=head.title,
            listed_at=head.activity,
        )

    def _current(self, ref: SessionRef, turns: int = 1) -> tuple[Snapshot, Session | None]:
        deadline.check("session store read")
        snapshot = self._read(ref, turns)
        return snapshot, self._session(ref, snapshot.head, snapshot.turns[0] if snapshot.turns else None, self._now())

    def _head_of(self, session: Session, **changes: Any) -> Head:
        """The head record of ``session`` with ``changes`` applied."""
        head = Head(
            incarnation=session.incarnation,
            created_at=session.created_at,
            updated_at=session.updated_at,
            expires_at=session.head_expires_at or session.expires_at,
            version=session.version,
            state=session.state,
            turns=session.turns,
            event_count=session.event_count,
            message_count=session.message_count,
            schema_version=session.schema_version,
            title=session.title,
            activity=session.listed_at,
        )
        return replace(head, **changes)

    def _listed(self, ref: SessionRef) -> bool:
        return ref.channel in self.policy.listed_channels

    def _index_due(self, current: Session, title: str | None, now: datetime) -> bool:
        """Whether a stateless turn at ``now`` must touch the head for the list.

        It must for a first title, for a head not listed yet (written before listing existed), and when the
        listed activity is at least one interval old.
        """
        if title is not None or current.listed_at is None:
            return True
        return (now - current.listed_at).total_seconds() >= self.policy.index_bound_seconds

    # -- sessions ---------------------------------------------------------------------------------
    def create(self, ref: SessionRef, *, state: Mapping[str, Any] | None = None) -> Session:
        """Create a session, optionally preloaded with state."""
        values = {key: to_jsonable(value) for key, value in (state or {}).items()}
        for attempt in range(self.max_attempts):
            snapshot, live = self._current(ref)
            if live is not None:
                raise SessionExists(f"session {ref.session_id!r} already exists")
            now = self._now()
            dead = snapshot.head.incarnation if snapshot.head else None
            head = self._new_head(ref, dead, now, state=values)
            write = HeadWrite(head, "create", expect_incarnation=dead)
            try:
                self._write(ref, head.incarnation, head=write)
            except WriteConflict:
                _backoff(attempt)
                continue
            created = self._session(ref, head, None, now)
            assert created is not None  # just created: live
            return created
        raise ConflictError(f"session {ref.session_id!r} kept changing; not created")

    def get(self, ref: SessionRef) -> Session | None:
        """The live session or ``None`` (one read: head + newest turn)."""
        return self._current(ref)[1]

    def load(self, ref: SessionRef, *, last: int = 10) -> LoadedSession | None:
        """The live session with its ``last`` most recent messages (one read when turns hold two messages)."""
        last = max(last, 0)
        span = max(1, math.ceil(last / 2))
        snapshot, session = self._current(ref, span)
        if session is None:
            return None
        recent, _ = self._collect(ref, session.incarnation, snapshot.turns, snapshot.more, last, None, span)
        return LoadedSession.model_construct(session=session, recent=[m for m, _, _ in reversed(recent[:last])])

    def delete(self, ref: SessionRef) -> bool:
        """Delete the session, then its history (best effort: leftovers are invisible and expire)."""
        snapshot, session = self._current(ref)
        if snapshot.head is None:
            return False
        return self._purge(ref, snapshot.head.incarnation) and session is not None

    # -- history ----------------------------------------------------------------------------------
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
        """Append one turn (and a state patch) with one conditional write, retried on conflicts."""
        patch = state if state else None
        baseline = expected if isinstance(expected, Session) and expected.ref == ref else None
        stale_check = patch is not None and (baseline is not None or expected is NEW_SESSION)
        current: Session | None = baseline
        dead: int | None = None
        fresh = expected is NEW_SESSION  # first attempt of a NEW_SESSION append: try creating without a read
        tag = origin if origin is not None else request_id
        for attempt in range(self.max_attempts):
            deadline.check("session store write")
            now = self._now()
            if not fresh and (current is None or not logic.alive(current.expires_at, now)):
                current, dead = self._reload(ref, baseline, stale_check, origin if expected is not None else None)
                now = self._now()
            fresh = False
            if current is None and not create:
                raise _not_found(ref)
            turn, head, result = self._plan(ref, current, dead, messages, patch, tag, now, author)
            if turn is None and head is None:
                return AppendResult.model_construct(session=result, messages=[])
            record = None
            if request_id is not None and turn is not None:
                record = self._request_record(request_id, fingerprint, result.incarnation, turn, now)
            try:
                self._write(ref, result.incarnation, turn=turn, head=head, request=record)
            except WriteConflict as conflict:
                if request_id is not None and "request" in conflict.kinds:
                    self._refuse_duplicate(self._get_request(ref, request_id), fingerprint, now)
                current, dead = None, None
                _backoff(attempt)
                continue
            return AppendResult.model_construct(session=result, messages=list(turn.messages) if turn else [])
        raise ConflictError(f"session {ref.session_id!r} kept changing; append not applied")

    def _reload(
        self, ref: SessionRef, baseline: Session | None, stale_check: bool, origin: str | None
    ) -> tuple[Session | None, int | None]:
        """The live session (or ``None``) and the dead incarnation a create must replace, read for an append.

        Raises ``StaleState`` when the append's patch was computed from a state that changed (``stale_check``), or
        when a turn tagged ``origin`` was written after ``baseline`` was read.
        """
        snapshot, current = self._current(ref)
        dead = snapshot.head.incarnation if snapshot.head and current is None else None
        if stale_check and self._is_stale(current, baseline):
            raise StaleState(current)
        if self._repeats(current, baseline, origin):
            raise StaleState(current)
        return current, dead

    def _request_record(
        self, request_id: str, fingerprint: str | None, incarnation: int, turn: Turn, now: datetime
    ) -> RequestRecord:
        """The idempotency record of ``request_id``, written with ``turn``."""
        return RequestRecord(
            request_id=request_id,
            incarnation=incarnation,
            turn=turn.number,
            first_seq=turn.event_count - len(turn.messages) + 1,
            last_seq=turn.event_count,
            message_count=turn.message_count,
            applied_at=now,
            expires_at=self.policy.expiry_from(now, self.policy.idempotency_seconds),
            fingerprint=fingerprint,
        )

    @staticmethod
    def _is_stale(current: Session | None, baseline: Session | None) -> bool:
        """Whether ``current`` is not the state ``baseline`` (``None``: no session) was read as."""
        if baseline is None:
            return current is not None
        return current is None or (current.incarnation, current.version) != (baseline.incarnation, baseline.version)

    @staticmethod
    def _repeats(current: Session | None, baseline: Session | None, origin: str | None) -> bool:
        """Whether a turn tagged ``origin`` was written to ``current`` after ``baseline`` was read."""
        if origin is None or current is None or current.origin != origin:
            return False
        return baseline is None or baseline.origin != origin

    def _plan(
        self,
        ref: SessionRef,
        current: Session | None,
        dead: int | None,
        messages: Sequence[NewMessage],
        patch: StatePatch | None,
        tag: str | None,
        now: datetime,
        author: str | None = None,
    ) -> tuple[Turn | None, HeadWrite | None, Session]:
        """The turn (tagged ``tag``) and head write that append ``messages`` (and ``patch``), and the session after.

        The steps: the session the turn goes on (``current``, else a new one to create), the turn itself, the
        session after it, then the head write that needs: create the session, replace its state (a patch),
        touch the head (its TTL or the list's activity is due), or none.
        """
        expires = self._expiry(now)
        title = self._first_title(ref, current, messages)
        base = current if current is not None else self._new_session(ref, dead, title, now)
        turn = self._next_turn(base, messages, tag, author, now, expires)
        after = self._after_turn(ref, base, turn, title, now, expires)
        if current is None:
            state = patch.apply_to(base.state) if patch is not None else base.state
            created = self._rewritten(ref, after, state, base.version, now, expires)
            return turn, HeadWrite(self._head_of(created), "create", expect_incarnation=dead), created
        if patch is not None:
            changed = self._rewritten(ref, after, patch.apply_to(current.state), current.version + 1, now, expires)
            return turn, HeadWrite(self._head_of(changed), "replace", expect_version=current.version), changed
        if turn is None:
            return None, None, current
        if self._touch_due(ref, current, title, now, expires):
            update: dict[str, Any] = {"head_expires_at": self._head_expiry(now)}
            if self._listed(ref):
                update["listed_at"] = now
            touched = after.model_copy(update=update)
            return turn, HeadWrite(self._head_of(touched, updated_at=current.updated_at), "touch"), touched
        return turn, None, after

    def _first_title(self, ref: SessionRef, current: Session | None, messages: Sequence[NewMessage]) -> str | None:
        """The title a listed session without one takes from the turn's first user message."""
        if not self._listed(ref) or (current is not None and current.title is not None):
            return None
        first = next((m.content for m in messages if m.role == "user"), None)
        return logic.derive_title(first) if first else None

    def _new_head(
        self,
        ref: SessionRef,
        dead: int | None,
        now: datetime,
        *,
        state: dict[str, Any] | None = None,
        title: str | None = None,
    ) -> Head:
        """The head of a session created at ``now`` (replacing the dead incarnation ``dead``, if any)."""
        return Head(
            incarnation=logic.new_incarnation(now, dead or 0),
            created_at=now,
            updated_at=now,
            expires_at=self._head_expiry(now),
            state=state if state is not None else {},
            title=title,
            activity=now if self._listed(ref) else None,
        )

    def _new_session(self, ref: SessionRef, dead: int | None, title: str | None, now: datetime) -> Session:
        """A session to create at ``now`` (replacing the dead incarnation ``dead``, if any)."""
        head = self._new_head(ref, dead, now, title=title)
        session = self._session(ref, head, None, now)
        assert session is not None  # just made: live
        return session

    def _next_turn(
        self,
        session: Session,
        messages: Sequence[NewMessage],
        tag: str | None,
        author: str | None,
        now: datetime,
        expires: datetime,
    ) -> Turn | None:
        """The turn after ``session``'s newest holding ``messages`` (redacted, numbered), or ``None`` without any."""
        if not messages:
            return None
        stored = []
        for seq, new in enumerate(messages, start=session.event_count + 1):
            content, redacted = self.policy.redact(new.content)
            stored.append(
                Message.model_construct(seq=seq, role=new.role, content=content, created_at=now, redacted=redacted)
            )
        return Turn(
            number=session.turns + 1,
            messages=tuple(stored),
            event_count=session.event_count + len(stored),
            message_count=session.message_count + sum(1 for m in stored if m.role == "user"),
            created_at=now,
            expires_at=expires,
            origin=tag,
            author=author,
        )

    def _after_turn(
        self, ref: SessionRef, session: Session, turn: Turn | None, title: str | None, now: datetime, expires: datetime
    ) -> Session:
        """``session`` after ``turn`` (counters, tag, author) and a write at ``now`` living until ``expires``."""
        update: dict[str, Any] = {"updated_at": now, "expires_at": max(expires, session.expires_at)}
        if turn is not None:
            update.update(
                turns=turn.number,
                event_count=turn.event_count,
                message_count=turn.message_count,
                origin=turn.origin,
                author=turn.author,
            )
        if self._listed(ref):
            update["title"] = session.title or title
        return session.model_copy(update=update)

    def _rewritten(
        self, ref: SessionRef, session: Session, state: dict[str, Any], version: int, now: datetime, expires: datetime
    ) -> Session:
        """``session`` with its head rewritten at ``now``: ``state`` at ``version``, the head's TTL renewed."""
        return session.model_copy(
            update={
                "state": state,
                "version": version,
                "head_expires_at": self._head_expiry(now),
                "expires_at": expires,
                "listed_at": now if self._listed(ref) else session.listed_at,
            }
        )

    def _touch_due(
        self, ref: SessionRef, current: Session, title: str | None, now: datetime, expires: datetime
    ) -> bool:
        """Whether a stateless turn must touch the head: its TTL runs short, or the list's entry is due."""
        if current.head_expires_at is None:
            return True
        if logic.epoch_seconds(current.head_expires_at) < logic.epoch_seconds(expires):
            return True
        return self._listed(ref) and self._index_due(current, title, now)

    def last_messages(self, ref: SessionRef, k: int) -> list[Message]:
        """The ``k`` most recent messages, oldest first."""
        loaded = self.load(ref, last=k)
        return loaded.recent if loaded else []

    def _collect(
        self,
        ref: SessionRef,
        incarnation: int,
        turns: list[Turn],
        more: bool,
        wanted: int,
        start: tuple[int, int] | None,
        requested: int,
    ) -> tuple[list[tuple[Message, int, int]], bool]:
        """Live messages newest first (with their turn and index) from ``turns`` on, reading older turns as needed.

        ``start`` = (turn, index): skip messages at or after it. Returns the messages and whether older
        ones may exist beyond them. Stops early (with ``True``) when a backend page filled up.
        """
        now = self._now()
        found: list[tuple[Message, int, int]] = []
        while True:
            for turn in turns:
                if not logic.alive(turn.expires_at, now):
                    return found, False  # older turns expired earlier still
                indexed = list(enumerate(turn.messages))
                if start is not None and turn.number == start[0]:
                    indexed = indexed[: start[1]]
                found.extend((m, turn.number, i) for i, m in reversed(indexed))
            oldest = turns[-1].number if turns else 0
            more = more and oldest > 1
            if len(found) >= wanted or not more:
                return found, more or len(found) > wanted
            if len(turns) < requested:
                return found, True  # the backend's page (1 MB) filled before the limit: stop here, cursor on
            requested = max(1, math.ceil((wanted - len(found)) / 2))
            deadline.check("session store read")
            turns, more = self._read_turns(ref, incarnation, oldest, requested)

    def page_messages(self, ref: SessionRef, *, limit: int = 20, cursor: str | None = None) -> MessagePage:
        """Page back through history: one read per page when turns hold two messages."""
        logic.check_page_size(limit)
        span = max(1, math.ceil(limit / 2))
        if cursor is None:
            snapshot, session = self._current(ref, span)
            if session is None:
                raise _not_found(ref)
            incarnation, turns, more, start = session.incarnation, snapshot.turns, snapshot.more, None
        else:
            incarnation, turn_number, index = logic.decode_cursor(ref, cursor)
            deadline.check("session store read")
            head = self._get_head(ref)
            if head is None:
                raise _not_found(ref)
            if head.incarnation != incarnation:
                raise InvalidCursor("cursor was issued for an earlier session")
            deadline.check("session store read")
            if index:  # the rest of turn ``turn_number``, then enough older turns for the page
                span = 1 + math.ceil(max(0, limit - index) / 2)
                turns, more = self._read_turns(ref, incarnation, turn_number + 1, span)
            else:
                turns, more = self._read_turns(ref, incarnation, turn_number, span)
            start = (turn_number, index)
            now = self._now()
            if (
                not logic.alive(self._head_lives_until(head), now)
                and not any(logic.alive(t.expires_at, now) for t in turns)
                and self.get(ref) is None
            ):
                raise _not_found(ref)
        found, older = self._collect(ref, incarnation, turns, more, limit, start, span)
        page = found[:limit]
        next_cursor = None
        if page and (older or len(found) > limit):
            _, turn_number, index = page[-1]
            if turn_number > 1 or index > 0:
                next_cursor = logic.encode_cursor(ref, incarnation, turn_number, index)
        return MessagePage.model_construct(messages=[m for m, _, _ in reversed(page)], next_cursor=next_cursor)

    # -- idempotency ------------------------------------------------------------------------------
    def _refuse_duplicate(self, record: RequestRecord | None, fingerprint: str | None, now: datetime) -> None:
        """Raise for a live record: ``IdempotencyKeyReused`` (other body) or ``DuplicateRequest``."""
        if record is None or record.expires_at is None or not logic.alive(record.expires_at, now):
            return
        if fingerprint is not None and record.fingerprint is not None and fingerprint != record.fingerprint:
            raise IdempotencyKeyReused(record.request_id)
        raise DuplicateRequest(record.request_id, record)

    def find_request(self, ref: SessionRef, request_id: str, *, fingerprint: str | None = None) -> RequestRecord | None:
        """The live record of ``request_id`` (one read), or ``None``."""
        deadline.check("session store read")
        record = self._get_request(ref, request_id)
        try:
            self._refuse_duplicate(record, fingerprint, self._now())
        except DuplicateRequest as duplicate:
            return duplicate.record
        return None

    def replay(self, ref: SessionRef, record: RequestRecord) -> list[Message]:
        """The messages of the turn ``record`` wrote (one read)."""
        deadline.check("session store read")
        turns, _ = self._read_turns(ref, record.incarnation, record.turn + 1, 1)
        return list(turns[0].messages) if turns and turns[0].number == record.turn else []

    # -- per-session state ------------------------------------------------------------------------
    def _change_state(self, ref: SessionRef, change: Any) -> Session:
        for attempt in range(self.max_attempts):
            _, current = self._current(ref)
            if current is None:
                raise _not_found(ref)
            now = self._now()
            result = current.model_copy(
                update={
                    "state": change(current.state),
                    "version": current.version + 1,
                    "updated_at": now,
                    "expires_at": max(self._expiry(now), current.expires_at),
                    "head_expires_at": self._head_expiry(now),
                    "listed_at": now if self._listed(ref) else current.listed_at,
                }
            )
            write = HeadWrite(self._head_of(result), "replace", expect_version=current.version)
            try:
                self._write(ref, current.incarnation, head=write)
            except WriteConflict:
                _backoff(attempt)
                continue
            return result
        raise ConflictError(f"session {ref.session_id!r} kept changing; state not changed")

    def update_state(self, ref: SessionRef, patch: StatePatch) -> Session:
        """Merge a state patch into the current state of a live session (retried on conflicts)."""
        return self._change_state(ref, patch.apply_to)

    def clear(self, ref: SessionRef, *, retain: Iterable[str] = ()) -> Session:
        """Remove every state key except those retained."""
        keep = set(retain)
        return self._change_state(ref, lambda state: {k: v for k, v in state.items() if k in keep})

    # -- the conversation list ----------------------------------------------------------------------
    def _summary(self, session_id: str, head: Head) -> SessionSummary:
        """A list entry from an (index-projected) head: values as of its listed activity."""
        activity = head.activity or head.updated_at
        expires = max(self._head_lives_until(head), self._expiry(activity))
        return SessionSummary.model_construct(
            session_id=session_id,
            title=head.title,
            created_at=head.created_at,
            updated_at=activity,
            expires_at=expires,
            message_count=head.message_count,
        )

    def list_sessions(
        self, actor_id: str, *, channel: Channel = "api", limit: int = 20, cursor: str | None = None
    ) -> SessionListPage:
        """One index read of ``limit + 1`` entries above the expiry floor: full pages, no filter after the limit."""
        logic.check_page_size(limit)
        scope = items.actor_scope(channel, actor_id)
        after = logic.decode_list_cursor(scope, cursor) if cursor else None
        floor = self._now() - timedelta(seconds=self.policy.ttl_seconds)
        deadline.check("session store read")
        entries = self._list(scope, floor, after, limit + 1)
        page = entries[:limit]
        next_cursor = None
        if len(entries) > limit:
            last_id, last_head = page[-1]
            next_cursor = logic.encode_list_cursor(
                scope, logic.epoch_ms(last_head.activity or last_head.updated_at), last_id
            )
        return SessionListPage.model_construct(
            sessions=[self._summary(sid, head) for sid, head in page], next_cursor=next_cursor
        )

    def rename(self, ref: SessionRef, title: str) -> SessionSummary:
        """Set the title in one conditional UpdateItem (listing a session written before listing existed)."""
        if not self._listed(ref):
            raise ValueError(f"sessions of channel {ref.channel!r} are not listed")
        clean = logic.check_title(title, MAX_TITLE_CHARS)
        now = self._now()
        deadline.check("session store write")
        head_after = now + timedelta(seconds=self.policy.head_slack_seconds)
        activity_after = now - timedelta(seconds=self.policy.ttl_seconds)
        head = self._rename(ref, clean, now, head_after, activity_after)
        if head is None:
            raise _not_found(ref)
        return self._summary(ref.session_id, head)

    # -- a user's data (export, erase) ------------------------------------------------------------
    def session_refs(
        self, actor_id: str, *, channel: Channel = "api", after: str | None = None
    ) -> tuple[list[tuple[SessionRef, str]], bool]:
        """A page of the actor's indexed sessions (expired or not), newest first, each with the position after it."""
        scope = items.actor_scope(channel, actor_id)
        start = logic.decode_list_cursor(scope, after) if after else None
        deadline.check("session store read")
        entries = self._list(scope, None, start, _REFS_PAGE)
        found = [
            (
                SessionRef.of(actor_id, sid, channel),
                logic.encode_list_cursor(scope, logic.epoch_ms(head.activity or head.updated_at), sid),
            )
            for sid, head in entries
        ]
        return found, len(entries) == _REFS_PAGE

    def history(
        self, ref: SessionRef, *, below: int | None = None, limit: int = 200, incarnation: int | None = None
    ) -> tuple[list[Message], int | None]:
        """Live messages below turn ``below``, oldest first, and where to go on (one read given ``incarnation``)."""
        deadline.check("session store read")
        if incarnation is None:
            head = self._get_head(ref)
            if head is None:
                return [], None
            incarnation = head.incarnation
        now = self._now()
        turns, more = self._read_turns(ref, incarnation, below or ABOVE_EVERY_TURN, limit)
        live = [t for t in turns if logic.alive(t.expires_at, now)]
        messages = [m for t in reversed(live) for m in t.messages]
        following = turns[-1].number if more and turns and len(live) == len(turns) else None
        return messages, following

    def wipe(self, ref: SessionRef) -> tuple[dict[str, int], bool]:
        """Delete a page of the session's items; the head (and its index entry) goes last."""
        deadline.check("session store erase")
        return self._wipe(ref)

    def link(self, user_id: str, ref: SessionRef, *, ttl_seconds: int) -> None:
        """One PutItem in the user's partition."""
        deadline.check("session store write")
        self._put_link(user_id, ref, self.policy.expiry_from(self._now(), ttl_seconds))

    def links(self, user_id: str) -> list[SessionRef]:
        """The user's linked conversations (one read per page)."""
        deadline.check("session store read")
        return self._links(user_id)

    def authored_turns(self, ref: SessionRef, author: str) -> list[tuple[int, list[Message]]]:
        """The live turns ``author`` made in ``ref``, oldest first."""
        deadline.check("session store read")
        now = self._now()
        found = sorted(self._authored(ref, author), key=lambda pair: (pair[0], pair[1].number))
        return [(turn.number, list(turn.messages)) for _, turn in found if logic.alive(turn.expires_at, now)]

    def erase_authored(self, ref: SessionRef, author: str) -> int:
        """Delete the turns ``author`` made in ``ref`` (expired ones too)."""
        deadline.check("session store erase")
        return self._delete_authored(ref, author)

    def unlink(self, user_id: str, ref: SessionRef) -> None:
        """Delete the link (idempotent)."""
        deadline.check("session store erase")
        self._delete_link(user_id, ref)


_REFS_PAGE = 100
