"""Per-execution-environment singletons: the configured session store, built lazily once.

Handlers call ``get_store()``; tests call ``set_store(...)`` to inject a twin and ``reset()`` after.
Inside Lambda, handler modules build their runtime during Init (``in_lambda()``, ``prepare_clients``): AWS's guidance
is to create SDK clients outside the handler, so the first event does not pay for ``import boto3`` and the client.
"""

from __future__ import annotations

import os
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
                from chatstate.store.dynamodb import DynamoDBSessionStore
                from chatstate.store.port import StorePolicy

                settings = get_settings()
                _store = DynamoDBSessionStore(settings.table_name, policy=StorePolicy(ttl_seconds=settings.ttl_seconds))
    return _store


def in_lambda() -> bool:
    """True in a Lambda execution environment (Lambda sets ``AWS_LAMBDA_INITIALIZATION_TYPE`` for every function)."""
    return bool(os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"))


def prepare_clients(*parts: object) -> None:
    """Create the boto3 clients of ``parts`` now, through their lazy ``client`` property (parts without one: no-op)."""
    for part in parts:
        getattr(part, "client", None)


def set_store(store: SessionStore) -> None:
    """Use ``store`` for this execution environment (tests, local runs)."""
    global _store
    _store = store


def reset() -> None:
    """Forget the store and the cached settings (the next call rebuilds both)."""
    global _store
    _store = None
    get_settings.cache_clear()
