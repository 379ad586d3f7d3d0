"""``InMemorySessionStore``: the in-process twin of the DynamoDB adapter, for tests and local use.

It keeps items as DynamoDB would (expired items linger until read, deleted sessions leave no
trace), applies the same transitions (``chatstate.store.logic``) and the same 400 KB item limit,
and passes the same contract tests. Thread-safe; not shared across processes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from chatstate.exceptions import InvalidCursor, SessionExists, SessionNotFound
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
    to_jsonable,
)
from chatstate.store import items, logic
from chatstate.store.port import SessionStore, StorePolicy


def _snapshot(session: Session) -> Session:
    """A copy callers may mutate without touching the stored session (cheaper than a deep model copy)."""
    return session.model_copy(update={"state": copy.deepcopy(session.state), "requests": dict(session.requests)})


class InMemorySessionStore(SessionStore):
    """A ``SessionStore`` kept in process memory (never use it in a deployed function)."""

    def __init__(self, policy: StorePolicy | None = None) -> None:
        self.policy = policy or StorePolicy()
        self._lock = threading.RLock()
        self._sessions: dict[SessionRef, Session] = {}
        self._messages: dict[SessionRef, dict[tuple[int, int], tuple[Message, datetime]]] = {}
        self._globals: dict[str, GlobalEntry] = {}
        self._props: dict[str, tuple[dict[str, Any], datetime]] = {}

    # -- helpers ----------------------------------------------------------------------------------
    def _live(self, ref: SessionRef, now: datetime) -> Session | None:
        session = self._sessions.get(ref)
        return session if logic.is_live(session, now) else None

    def _require(self, ref: SessionRef, now: datetime) -> Session:
        session = self._live(ref, now)
        if session is None:
            raise SessionNotFound(f"no live session {ref.session_id!r}")
        return session

    def _current_newest_first(self, ref: SessionRef, session: Session, now: datetime) -> list[Message]:
        stored = self._messages.get(ref, {})
        keys = sorted((k for k in stored if k[0] == session.incarnation), reverse=True)
        return [stored[k][0] for k in keys if items.epoch_seconds(stored[k][1]) > items.epoch_seconds(now)]

    # -- sessions ---------------------------------------------------------------------------------
    def create(self, ref: SessionRef, *, channel: str = "api", state: Mapping[str, Any] | None = None) -> Session:
        """Create a session, optionally preloaded with state."""
        with self._lock:
            now = logic.now_ms(self.policy)
            if self._live(ref, now) is not None:
                raise SessionExists(f"session {ref.session_id!r} already exists")
            session = logic.new_session(
                ref, policy=self.policy, now=now, channel=channel, state=state, previous=self._sessions.get(ref)
            )
            logic.check_session_size(session)
            self._sessions[ref] = session
            return _snapshot(session)

    def get(self, ref: SessionRef) -> Session | None:
        """The live session or ``None``."""
        with self._lock:
            session = self._live(ref, logic.now_ms(self.policy))
            return _snapshot(session) if session else None

    def load(self, ref: SessionRef, *, last: int = 10) -> LoadedSession | None:
        """The live session with its ``last`` most recent messages."""
        with self._lock:
            now = logic.now_ms(self.policy)
            session = self._live(ref, now)
            if session is None:
                return None
            recent = self._current_newest_first(ref, session, now)[:last] if last > 0 else []
            return LoadedSession(session=_snapshot(session), recent=list(reversed(recent)))

    def delete(self, ref: SessionRef) -> bool:
        """Delete the session and its history."""
        with self._lock:
            live = self._live(ref, logic.now_ms(self.policy)) is not None
            self._sessions.pop(ref, None)
            self._messages.pop(ref, None)
            return live

    # -- history ----------------------------------------------------------------------------------
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
        """Append messages and merge a state patch atomically."""
        with self._lock:
            now = logic.now_ms(self.policy)
            current = self._live(ref, now)
            if current is None:
                if not create:
                    raise SessionNotFound(f"no live session {ref.session_id!r}")
                current = logic.new_session(
                    ref, policy=self.policy, now=now, channel=channel, previous=self._sessions.get(ref)
                )
                self._messages.pop(ref, None)
            updated, stored = logic.plan_append(
                current, messages, policy=self.policy, now=now, patch=state, request_id=request_id
            )
            logic.check_session_size(updated)
            logic.check_message_sizes(ref, updated, stored)
            self._sessions[ref] = updated
            bucket = self._messages.setdefault(ref, {})
            for message in stored:
                bucket[(updated.incarnation, message.seq)] = (message, updated.expires_at)
            return AppendResult(session=_snapshot(updated), messages=stored)

    def last_messages(self, ref: SessionRef, k: int) -> list[Message]:
        """The ``k`` most recent messages, oldest first."""
        loaded = self.load(ref, last=k)
        return loaded.recent if loaded else []

    def page_messages(self, ref: SessionRef, *, limit: int = 20, cursor: str | None = None) -> MessagePage:
        """Page through the history newest-first."""
        logic.clamp_page_size(limit)
        with self._lock:
            now = logic.now_ms(self.policy)
            session = self._require(ref, now)
            newest_first = self._current_newest_first(ref, session, now)
            if cursor is not None:
                incarnation, before = logic.decode_cursor(ref, cursor)
                if incarnation != session.incarnation:
                    raise InvalidCursor("cursor was issued for an earlier session")
                newest_first = [m for m in newest_first if m.seq < before]
            page, next_cursor = logic.page_from_newest(ref, session.incarnation, newest_first[: limit + 1], limit)
            return MessagePage(messages=page, next_cursor=next_cursor)

    def messages_between(self, ref: SessionRef, first_seq: int, last_seq: int) -> list[Message]:
        """Messages with ``first_seq <= seq <= last_seq``."""
        with self._lock:
            now = logic.now_ms(self.policy)
            session = self._live(ref, now)
            if session is None:
                return []
            newest_first = self._current_newest_first(ref, session, now)
            return [m for m in reversed(newest_first) if first_seq <= m.seq <= last_seq]

    # -- per-session state ------------------------------------------------------------------------
    def update_state(self, ref: SessionRef, patch: StatePatch) -> Session:
        """Merge a state patch into a live session."""
        with self._lock:
            now = logic.now_ms(self.policy)
            current = self._require(ref, now)
            updated = logic.plan_state_change(current, patch.apply_to(current.state), policy=self.policy, now=now)
            logic.check_session_size(updated)
            self._sessions[ref] = updated
            return _snapshot(updated)

    def clear(self, ref: SessionRef, *, retain: Iterable[str] = ()) -> Session:
        """Remove every state key except those retained."""
        keep = set(retain)
        with self._lock:
            now = logic.now_ms(self.policy)
            current = self._require(ref, now)
            state = {k: v for k, v in current.state.items() if k in keep}
            updated = logic.plan_state_change(current, state, policy=self.policy, now=now)
            self._sessions[ref] = updated
            return _snapshot(updated)

    # -- global entries ---------------------------------------------------------------------------
    def save_global(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> GlobalEntry:
        """Save a cross-session entry."""
        now = logic.now_ms(self.policy)
        entry = GlobalEntry(
            key=key,
            value=to_jsonable(value),
            updated_at=now,
            expires_at=self.policy.expiry_from(now, ttl_seconds or self.policy.global_ttl_seconds),
        )
        item = items.json_map_item(
            items.global_pk(key), items.GLOBAL_SK, "value", {"v": entry.value}, entry.expires_at, now
        )
        logic.check_item_size(item, f"global entry {key!r}")
        with self._lock:
            self._globals[key] = entry
        return entry

    def get_global_entry(self, key: str) -> GlobalEntry | None:
        """A live cross-session entry or ``None``."""
        with self._lock:
            entry = self._globals.get(key)
        now = logic.now_ms(self.policy)
        if entry is None or items.epoch_seconds(entry.expires_at) <= items.epoch_seconds(now):
            return None
        return entry.model_copy(update={"value": copy.deepcopy(entry.value)})

    def evict_global(self, key: str) -> None:
        """Remove a cross-session entry."""
        with self._lock:
            self._globals.pop(key, None)

    # -- per-user props ---------------------------------------------------------------------------
    def _live_props(self, actor_id: str, now: datetime) -> dict[str, Any]:
        props, expires = self._props.get(actor_id, ({}, now))
        return dict(props) if items.epoch_seconds(expires) > items.epoch_seconds(now) else {}

    def save_user_props(self, actor_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Merge props into an actor's props."""
        with self._lock:
            now = logic.now_ms(self.policy)
            props = self._live_props(actor_id, now)
            props.update({k: to_jsonable(v) for k, v in values.items()})
            expires = self.policy.expiry_from(now)
            item = items.json_map_item(items.props_pk(actor_id), items.PROPS_SK, "props", props, expires, now)
            logic.check_item_size(item, "user props")
            self._props[actor_id] = (props, expires)
            return dict(props)

    def get_user_props(self, actor_id: str) -> dict[str, Any]:
        """All live props of an actor."""
        with self._lock:
            return self._live_props(actor_id, logic.now_ms(self.policy))

    def evict_user_props(self, actor_id: str, *keys: str) -> None:
        """Remove some props of an actor."""
        with self._lock:
            now = logic.now_ms(self.policy)
            props = self._live_props(actor_id, now)
            if not props:
                return
            for key in keys:
                props.pop(key, None)
            self._props[actor_id] = (props, self.policy.expiry_from(now))
