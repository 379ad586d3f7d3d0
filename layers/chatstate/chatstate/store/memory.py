"""``InMemorySessionStore``: the in-process twin of the DynamoDB adapter, for tests and local use.

Only the backend primitives live here, as dict operations under one lock; the algorithm is
``BaseSessionStore``'s, so the twin cannot drift from the DynamoDB adapter. Records linger after
they expire (as TTL deletion lags), and the base checks expiry on every read. Thread-safe; not
shared across processes.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import replace
from datetime import datetime

from chatstate.models import RequestRecord, SessionRef
from chatstate.store import items, logic
from chatstate.store.base import BaseSessionStore, WriteConflict
from chatstate.store.port import StorePolicy
from chatstate.store.records import ABOVE_EVERY_TURN, Head, HeadWrite, Snapshot, Turn


def _copy(head: Head) -> Head:
    """A head whose state callers may mutate without touching the stored one."""
    return replace(head, state=copy.deepcopy(head.state))


def _holds(current: Head | None, write: HeadWrite) -> bool:
    """Whether the condition of a head write holds on the stored head ``current``."""
    if write.mode == "create":
        return (current.incarnation if current is not None else None) == write.expect_incarnation
    if current is None or current.incarnation != write.head.incarnation:
        return False
    return write.mode == "touch" or current.version == write.expect_version


def _check_sizes(ref: SessionRef, incarnation: int, turn: Turn | None, head: HeadWrite | None) -> None:
    """``ItemTooLarge`` where the DynamoDB adapter would refuse an item: the twin sizes the items it would write."""
    if turn is not None:
        items.checked_turn_item(ref, incarnation, turn)
    if head is not None:
        items.checked_head_item(ref, head.head)


class InMemorySessionStore(BaseSessionStore):
    """A ``SessionStore`` kept in process memory (never use it in a deployed function)."""

    def __init__(self, policy: StorePolicy | None = None, **kwargs: int) -> None:
        super().__init__(policy, **kwargs)
        self._lock = threading.RLock()
        self._heads: dict[SessionRef, Head] = {}
        self._turns: dict[SessionRef, dict[int, dict[int, Turn]]] = {}  # ref -> incarnation -> number -> turn
        self._requests: dict[SessionRef, dict[str, RequestRecord]] = {}
        self._links_by_user: dict[str, dict[SessionRef, datetime]] = {}

    def _newest(self, ref: SessionRef, incarnation: int, below: int, limit: int) -> tuple[list[Turn], bool]:
        bucket = self._turns.get(ref, {}).get(incarnation, {})
        found: list[Turn] = []
        number = min(below - 1, max(bucket, default=0))
        while number >= 1 and len(found) < limit:  # numbers are gap-free unless TTL removed some
            if number in bucket:
                found.append(bucket[number])
            number -= 1
        more = any(n <= number for n in bucket) if number >= 1 else False
        return found, more

    def _read(self, ref: SessionRef, turns: int) -> Snapshot:
        with self._lock:
            head = self._heads.get(ref)
            if head is None:
                return Snapshot(None)
            found, more = self._newest(ref, head.incarnation, ABOVE_EVERY_TURN, turns)
            return Snapshot(_copy(head), found, more)

    def _read_turns(self, ref: SessionRef, incarnation: int, below: int, limit: int) -> tuple[list[Turn], bool]:
        with self._lock:
            return self._newest(ref, incarnation, below, limit)

    def _get_head(self, ref: SessionRef) -> Head | None:
        with self._lock:
            head = self._heads.get(ref)
            return _copy(head) if head is not None else None

    def _get_request(self, ref: SessionRef, request_id: str) -> RequestRecord | None:
        with self._lock:
            return self._requests.get(ref, {}).get(request_id)

    def _write(
        self,
        ref: SessionRef,
        incarnation: int,
        *,
        turn: Turn | None = None,
        head: HeadWrite | None = None,
        request: RequestRecord | None = None,
    ) -> None:
        _check_sizes(ref, incarnation, turn, head)
        with self._lock:
            current = self._heads.get(ref)
            failed = set()
            if turn is not None and turn.number in self._turns.get(ref, {}).get(incarnation, {}):
                failed.add("turn")
            if head is not None and not _holds(current, head):
                failed.add("head")
            if request is not None:
                old = self._requests.get(ref, {}).get(request.request_id)
                if old is not None and old.expires_at and logic.alive(old.expires_at, logic.now_ms(self.policy)):
                    failed.add("request")
            if failed:
                raise WriteConflict(failed)
            if head is not None:
                if head.mode == "touch":
                    assert current is not None
                    new = head.head
                    self._heads[ref] = replace(
                        current,
                        expires_at=new.expires_at,
                        turns=new.turns,
                        event_count=new.event_count,
                        message_count=new.message_count,
                        activity=new.activity if new.activity is not None else current.activity,
                        title=current.title if current.title is not None else new.title,
                    )
                else:
                    self._heads[ref] = _copy(head.head)
            if turn is not None:
                self._turns.setdefault(ref, {}).setdefault(incarnation, {})[turn.number] = turn
            if request is not None:
                self._requests.setdefault(ref, {})[request.request_id] = request

    def _purge(self, ref: SessionRef, incarnation: int) -> bool:
        with self._lock:
            head = self._heads.get(ref)
            if head is None or head.incarnation != incarnation:
                return False
            del self._heads[ref]
            self._turns.pop(ref, None)
            self._requests.pop(ref, None)
            return True

    # -- the conversation list and a user's data ----------------------------------------------------
    def _list(
        self, scope: str, floor: datetime | None, after: tuple[int, str] | None, limit: int
    ) -> list[tuple[str, Head]]:
        with self._lock:
            entries = [
                (logic.epoch_ms(head.activity), ref.session_id, head)
                for ref, head in self._heads.items()
                if head.activity is not None
                and items.actor_scope(ref.channel, ref.actor_id) == scope
                and (floor is None or logic.epoch_ms(head.activity) > logic.epoch_ms(floor))
            ]
        entries.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        if after is not None:
            entries = [entry for entry in entries if (entry[0], entry[1]) < after]
        return [(session_id, replace(head, state=copy.deepcopy(head.state))) for _, session_id, head in entries[:limit]]

    def _rename(
        self, ref: SessionRef, title: str, now: datetime, head_after: datetime, activity_after: datetime
    ) -> Head | None:
        with self._lock:
            head = self._heads.get(ref)
            if head is None:
                return None
            head_live = logic.epoch_seconds(head.expires_at) > logic.epoch_seconds(head_after)
            active = head.activity is not None and logic.epoch_ms(head.activity) > logic.epoch_ms(activity_after)
            if not (head_live or active):
                return None
            renamed = replace(head, title=title, version=head.version + 1, activity=head.activity or now)
            self._heads[ref] = renamed
            return replace(renamed, state=copy.deepcopy(renamed.state))

    def _wipe(self, ref: SessionRef) -> tuple[dict[str, int], bool]:
        with self._lock:
            turns = sum(len(bucket) for bucket in self._turns.pop(ref, {}).values())
            requests = len(self._requests.pop(ref, {}))
            sessions = 1 if self._heads.pop(ref, None) is not None else 0
        return {"sessions": sessions, "turns": turns, "requests": requests}, True

    def _authored(self, ref: SessionRef, author: str) -> list[tuple[int, Turn]]:
        with self._lock:
            return [
                (incarnation, turn)
                for incarnation, bucket in self._turns.get(ref, {}).items()
                for turn in bucket.values()
                if turn.author == author
            ]

    def _delete_authored(self, ref: SessionRef, author: str) -> int:
        with self._lock:
            deleted = 0
            for bucket in self._turns.get(ref, {}).values():
                for number in [n for n, turn in bucket.items() if turn.author == author]:
                    del bucket[number]
                    deleted += 1
            return deleted

    def _put_link(self, user_id: str, ref: SessionRef, expires_at: datetime) -> None:
        with self._lock:
            self._links_by_user.setdefault(user_id, {})[ref] = expires_at

    def _links(self, user_id: str) -> list[SessionRef]:
        with self._lock:
            return list(self._links_by_user.get(user_id, {}))

    def _delete_link(self, user_id: str, ref: SessionRef) -> None:
        with self._lock:
            self._links_by_user.get(user_id, {}).pop(ref, None)
