"""Per-execution-environment singletons: the configured session store, built lazily once.

Handlers call ``get_store()``; tests call ``set_store(...)`` to inject a twin and ``reset()`` after.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from chatstate.settings import get_settings

if TYPE_CHECKING:
    from chatstate.store.port import SessionStore

_lock = threading.Lock()
_store: SessionStore | None = None


def get_store() -> SessionStore:
    """The DynamoDB session store configured from the environment (created on first call)."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                from chatstate.logsafe import quiet_wire_logs
                from chatstate.store.dynamodb import DynamoDBSessionStore
                from chatstate.store.port import StorePolicy

                quiet_wire_logs()

                settings = get_settings()
                _store = DynamoDBSessionStore(settings.table_name, policy=StorePolicy(ttl_seconds=settings.ttl_seconds))
    return _store


def set_store(store: SessionStore) -> None:
    """Use ``store`` for this execution environment (tests, local runs)."""
    global _store
    _store = store


def reset() -> None:
    """Forget the store and the cached settings (the next call rebuilds both)."""
    global _store
    _store = None
    get_settings.cache_clear()
