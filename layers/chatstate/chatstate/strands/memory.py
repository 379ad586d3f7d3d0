"""``InMemorySessionRepository``: the in-process twin of the DynamoDB Strands repository, for tests and local use.

Only the primitives live here, as dict operations under one lock, on the very items the DynamoDB adapter
writes (``chatstate.strands.items``): the rules are ``BaseSessionRepository``'s, so the twin cannot drift.
Expired items linger (as TTL deletion lags) and the base checks expiry on every read. Several repositories
(several "processes") share one ``InMemoryTable``. Thread-safe; never use it in a deployed function.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chatstate.store.base import WriteConflict
from chatstate.strands import items
from chatstate.strands.repository import BaseSessionRepository, Condition


class InMemoryTable:
    """A process-local stand-in for the session table: items by key, and the DynamoDB operation each call is."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[tuple[str, str], items.Item] = {}
        self.operations: list[str] = []
        """The DynamoDB operation each call stands for (``GetItem``, ``PutItem``...), as a meter counts them."""


class InMemorySessionRepository(BaseSessionRepository):
    """Strands' ``SessionRepository`` kept in process memory (tests, local runs).

    Args:
        table: The shared in-memory table (a new one when omitted).
        actor_id: Whose sessions these are.
        ttl_seconds: How long a turn lives after it was written (default 24 h).
        now: Clock returning an aware UTC datetime (tests).
    """

    def __init__(
        self,
        *,
        table: InMemoryTable | None = None,
        actor_id: str = "default",
        ttl_seconds: int | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(actor_id=actor_id, ttl_seconds=ttl_seconds, now=now)
        self.table = table or InMemoryTable()

    def _get_item(self, pk: str, sk: str) -> items.Item | None:
        with self.table.lock:
            self.table.operations.append("GetItem")
            return copy.deepcopy(self.table.items.get((pk, sk)))

    def _holds(self, old: items.Item | None, condition: Condition) -> bool:
        now = items.epoch_seconds(self._now())
        if condition.kind == "new":
            return old is None or items.item_expiry(old) <= now
        if old is None or int(old.get("v", {"N": "0"})["N"]) != condition.version:
            return False
        return condition.kind == "version" or items.item_expiry(old) > now

    def _put_item(self, item: items.Item, condition: Condition) -> None:
        key = (item["pk"]["S"], item["sk"]["S"])
        with self.table.lock:
            self.table.operations.append("PutItem")
            if not self._holds(self.table.items.get(key), condition):
                raise WriteConflict(("item",))
            self.table.items[key] = copy.deepcopy(item)

    def _refresh(self, pk: str, sk: str, expires_at: int) -> None:
        with self.table.lock:
            self.table.operations.append("UpdateItem")
            item = self.table.items.get((pk, sk))
            if item is None:
                raise WriteConflict(("item",))
            item[items.TTL_ATTRIBUTE] = {"N": str(expires_at)}

    def _query(self, pk: str, lo: str, hi: str, limit: int | None, start: Any) -> tuple[list[items.Item], Any]:
        with self.table.lock:
            self.table.operations.append("Query")
            keys = sorted((sk for p, sk in self.table.items if p == pk and lo <= sk <= hi), reverse=True)
            if start is not None:
                keys = [sk for sk in keys if sk < start]
            page = keys if limit is None else keys[: max(1, limit)]
            found = [copy.deepcopy(self.table.items[(pk, sk)]) for sk in page]
            more = len(page) < len(keys)
            return found, (page[-1] if more and page else None)

    def _partition_keys(self, pk: str) -> list[items.Item]:
        with self.table.lock:
            self.table.operations.append("Query")
            return [items.key(p, sk) for p, sk in sorted(self.table.items) if p == pk]

    def _delete(self, keys: list[items.Item]) -> None:
        with self.table.lock:
            self.table.operations.append("BatchWriteItem")
            for key in keys:
                self.table.items.pop((key["pk"]["S"], key["sk"]["S"]), None)
