"""The execution environment's profile store, built lazily once (``set_profile_store`` for tests/local runs)."""

from __future__ import annotations

import threading

from chatstate.profile.port import ProfileStore

_lock = threading.Lock()
_profiles: ProfileStore | None = None


def get_profile_store() -> ProfileStore:
    """The DynamoDB profile store on the session table (``SESSION_TABLE_NAME``), created on first call.

    It shares the session store's DynamoDB client when that store is the DynamoDB one.
    """
    global _profiles
    if _profiles is None:
        with _lock:
            if _profiles is None:
                from chatstate.profile.dynamodb import DynamoDBProfileStore
                from chatstate.runtime import get_store
                from chatstate.settings import get_settings
                from chatstate.store.dynamodb import DynamoDBTable

                sessions = get_store()  # same table: share its client (one connection pool, one deadline guard)
                client = sessions.client if isinstance(sessions, DynamoDBTable) else None
                _profiles = DynamoDBProfileStore(get_settings().table_name, client=client)
    return _profiles


def set_profile_store(profiles: ProfileStore | None) -> None:
    """Use ``profiles`` for this execution environment (``None``: rebuild from settings on next use)."""
    global _profiles
    _profiles = profiles
