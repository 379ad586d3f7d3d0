"""``DynamoDBProfileStore``: profiles on the session table, one item per verified user.

A profile is the user's props item of ``DynamoDBPropsStore`` (``pk`` ``U<sub>``, ``sk`` ``~``, one
attribute per field, ``expires_at`` on every write): ``get`` is one GetItem, ``merge`` one UpdateItem
(atomic: concurrent merges of different fields all survive), plus a conditional delete only when an
expired profile still lingers (TTL deletion lags), so its old fields never come back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chatstate.models import utc_now
from chatstate.profile.port import PROFILE_TTL_SECONDS, ProfileStore
from chatstate.store.props_dynamodb import DynamoDBPropsStore


class DynamoDBProfileStore(ProfileStore):
    """A ``ProfileStore`` on the session table (keys ``pk``/``sk``, TTL on ``expires_at``).

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        client: A ready ``dynamodb`` client (e.g. the session store's); otherwise one is created lazily.
        ttl_seconds: Lifetime of a profile after its last change.
        now: The clock (tests inject one).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        ttl_seconds: int = PROFILE_TTL_SECONDS,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        table = DynamoDBPropsStore(table_name, client=client, ttl_seconds=ttl_seconds, now=now)
        super().__init__(table)
        self.table = table
        self.table_name = table_name

    @property
    def client(self) -> Any:
        """The DynamoDB client (created on first use when none was given)."""
        return self.table.client
