"""The ``PropsStore`` port: values kept across sessions, outside any session's key space.

* **User props**: named fields of one user (e.g. a profile keyed by a Cognito ``sub``, shared by the
  chat API and a Lex bot for verified users). ``merge_user_props`` sets and removes fields in one
  atomic write, so concurrent writers of different fields never clobber each other.
* **Global entries**: one JSON value per key (shared configuration, caches).

Both live in their own key spaces (``U…`` and ``G…`` partitions), disjoint from every session channel.
Values are JSON-compatible (models, enums, datetimes are dumped to JSON). Adapters:
``InMemoryPropsStore`` (below) and ``chatstate.store.props_dynamodb.DynamoDBPropsStore``; both pass
``tests/contract/test_props_contract.py``.
"""

from __future__ import annotations

import copy
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chatstate.exceptions import ConflictError
from chatstate.models import GlobalEntry, adapter_for, to_jsonable, utc_now
from chatstate.store import items, logic
from chatstate.store.records import WriteConflict

T = TypeVar("T")

_MERGE_ATTEMPTS = 3


class PropsStore(ABC):
    """User props and global entries.

    Args:
        ttl_seconds: Lifetime of user props after their last write (``None``: they never expire).
        global_ttl_seconds: Default lifetime of global entries (``None``: they never expire).
        now: The clock (tests inject one).
    """

    def __init__(
        self,
        *,
        ttl_seconds: int | None = None,
        global_ttl_seconds: int | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.global_ttl_seconds = global_ttl_seconds
        self.now = now

    def _now(self) -> datetime:
        return logic.to_ms(self.now())

    @staticmethod
    def _expiry(now: datetime, ttl_seconds: int | None) -> datetime | None:
        return (now + timedelta(seconds=ttl_seconds)).replace(microsecond=0) if ttl_seconds else None

    @staticmethod
    def _live(expires_at: datetime | None, now: datetime) -> bool:
        return expires_at is None or logic.alive(expires_at, now)

    @staticmethod
    def _check_size(values: Mapping[str, Any], what: str) -> None:
        logic.check_item_size({k: {"S": items.dump_json(v)} for k, v in values.items()}, what)

    # -- user props -------------------------------------------------------------------------------
    @abstractmethod
    def get_user_props(self, user_id: str) -> dict[str, Any]:
        """All live props of a user (empty if none or expired)."""

    def merge_user_props(
        self, user_id: str, values: Mapping[str, Any] | None = None, *, remove: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Set ``values`` and remove the ``remove`` fields in one atomic write; returns all props after it.

        Props that expired are replaced, never merged into (TTL deletion lags: their old fields must not come
        back). Raises ``ConflictError`` when other writers kept reviving or expiring them meanwhile.
        """
        plain = {k: to_jsonable(v) for k, v in (values or {}).items()}
        self._check_size(plain, "user props")
        drops = [name for name in dict.fromkeys(remove) if name not in plain]
        for _ in range(_MERGE_ATTEMPTS):
            now = self._now()
            expires = self._expiry(now, self.ttl_seconds)
            try:
                return self._merge(user_id, plain, drops, now, expires)
            except WriteConflict:
                pass
            try:
                return self._replace_expired(user_id, plain, now, expires)
            except WriteConflict:
                continue
        raise ConflictError("user props kept changing; not saved")

    @abstractmethod
    def _merge(
        self, user_id: str, values: dict[str, Any], remove: list[str], now: datetime, expires: datetime | None
    ) -> dict[str, Any]:
        """Merge into live (or absent) props in one atomic write, stamped ``now`` and expiring at ``expires``.

        Returns all props after it; raises ``WriteConflict`` (nothing written) when the stored props have expired.
        """

    @abstractmethod
    def _replace_expired(
        self, user_id: str, values: dict[str, Any], now: datetime, expires: datetime | None
    ) -> dict[str, Any]:
        """Replace expired props with ``values`` in one atomic write; returns them.

        Raises ``WriteConflict`` (nothing written) unless the stored props are there and expired.
        """

    @abstractmethod
    def delete_user_props(self, user_id: str) -> bool:
        """Delete all of a user's props (expired ones too); whether live props existed."""

    def save_user_props(self, user_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Merge props into a user's props; returns all props."""
        return self.merge_user_props(user_id, values)

    def evict_user_props(self, user_id: str, *keys: str) -> None:
        """Remove some props of a user (missing ones are ignored)."""
        if keys:
            self.merge_user_props(user_id, remove=keys)

    # -- global entries ---------------------------------------------------------------------------
    @abstractmethod
    def save_global(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> GlobalEntry:
        """Save a cross-session entry (``ttl_seconds`` overrides the default lifetime)."""

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

    def _entry(self, key: str, value: Any, ttl_seconds: int | None) -> GlobalEntry:
        now = self._now()
        plain = to_jsonable(value)
        self._check_size({"v": plain}, f"global entry {key!r}")
        expires = self._expiry(now, ttl_seconds or self.global_ttl_seconds)
        return GlobalEntry(key=key, value=plain, updated_at=now, expires_at=expires)


class InMemoryPropsStore(PropsStore):
    """The in-process twin of ``DynamoDBPropsStore`` (dicts under a lock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._users: dict[str, tuple[dict[str, Any], datetime | None]] = {}
        self._globals: dict[str, GlobalEntry] = {}

    def _props(self, user_id: str, now: datetime) -> dict[str, Any]:
        props, expires = self._users.get(user_id, ({}, None))
        return copy.deepcopy(props) if self._live(expires, now) else {}

    def get_user_props(self, user_id: str) -> dict[str, Any]:
        """All live props of a user."""
        with self._lock:
            return self._props(user_id, self._now())

    def _merge(
        self, user_id: str, values: dict[str, Any], remove: list[str], now: datetime, expires: datetime | None
    ) -> dict[str, Any]:
        with self._lock:
            stored = self._users.get(user_id)
            if stored is not None and not self._live(stored[1], now):
                raise WriteConflict(["props"])
            props = copy.deepcopy(stored[0]) if stored is not None else {}
            for name in remove:
                props.pop(name, None)
            props.update(values)
            return self._put(user_id, props, expires)

    def _replace_expired(
        self, user_id: str, values: dict[str, Any], now: datetime, expires: datetime | None
    ) -> dict[str, Any]:
        with self._lock:
            stored = self._users.get(user_id)
            if stored is None or self._live(stored[1], now):
                raise WriteConflict(["props"])
            return self._put(user_id, dict(values), expires)

    def _put(self, user_id: str, props: dict[str, Any], expires: datetime | None) -> dict[str, Any]:
        self._check_size(props, "user props")  # the whole item, as DynamoDB's own limit would
        self._users[user_id] = (props, expires)
        return copy.deepcopy(props)

    def delete_user_props(self, user_id: str) -> bool:
        """Delete all of a user's props."""
        with self._lock:
            live = bool(self._props(user_id, self._now()))
            self._users.pop(user_id, None)
            return live

    def save_global(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> GlobalEntry:
        """Save a cross-session entry."""
        entry = self._entry(key, value, ttl_seconds)
        with self._lock:
            self._globals[key] = entry
        return entry

    def get_global_entry(self, key: str) -> GlobalEntry | None:
        """A live cross-session entry or ``None``."""
        with self._lock:
            entry = self._globals.get(key)
        if entry is None or not self._live(entry.expires_at, self._now()):
            return None
        return entry.model_copy(update={"value": copy.deepcopy(entry.value)})

    def evict_global(self, key: str) -> None:
        """Remove a cross-session entry."""
        with self._lock:
            self._globals.pop(key, None)
