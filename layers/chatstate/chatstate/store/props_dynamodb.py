"""``DynamoDBPropsStore``: user props and global entries on the session table, in their own key spaces.

A user's props are one item (``pk`` ``U<user id>``, ``sk`` ``~``) with one attribute per field
(``p.<name>``, JSON text): ``merge_user_props`` is one ``UpdateItem`` whatever fields it sets or
removes, so concurrent writers of different fields never clobber each other. A global entry is one
item (``pk`` ``G<key>``). Both expire through the table's TTL when a lifetime is configured, and are
checked for expiry on every read.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chatstate.models import GlobalEntry
from chatstate.store import items
from chatstate.store.dynamodb import DynamoDBTable
from chatstate.store.props import PropsStore


class DynamoDBPropsStore(DynamoDBTable, PropsStore):
    """A ``PropsStore`` on the session table.

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        ttl_seconds: Lifetime of user props after their last write (``None``: never expire).
        global_ttl_seconds: Default lifetime of global entries (``None``: never expire).
        now: The clock.
        **table: ``client``, ``boto3_session``, ``boto_config``, ``consistent_reads``, ``report_capacity``
            as for ``DynamoDBTable``.
    """

    def __init__(
        self,
        table_name: str,
        *,
        ttl_seconds: int | None = None,
        global_ttl_seconds: int | None = None,
        now: Any = None,
        **table: Any,
    ) -> None:
        DynamoDBTable.__init__(self, table_name, **table)
        extra = {"now": now} if now is not None else {}
        PropsStore.__init__(self, ttl_seconds=ttl_seconds, global_ttl_seconds=global_ttl_seconds, **extra)

    # -- user props -------------------------------------------------------------------------------
    def _user_key(self, user_id: str) -> items.Item:
        return items.key(items.user_pk(user_id), items.HEAD_SK)

    def _live_item(self, item: items.Item | None) -> items.Item | None:
        return item if item and not items.expired(item, self._now()) else None

    def get_user_props(self, user_id: str) -> dict[str, Any]:
        """All live props of a user (one GetItem)."""
        item = self._live_item(self._get(self._user_key(user_id)))
        return items.read_props(item) if item else {}

    def _merge(
        self, user_id: str, values: dict[str, Any], remove: list[str], now: datetime, expires: datetime | None
    ) -> dict[str, Any]:
        """One UpdateItem, conditional on the item being absent or live."""
        names = {f"#a{i}": items.prop_attribute(k) for i, k in enumerate(values)}
        names.update({f"#r{i}": items.prop_attribute(k) for i, k in enumerate(remove)})
        names["#x"] = items.TTL_ATTRIBUTE
        vals: dict[str, Any] = {f":a{i}": {"S": items.dump_json(v)} for i, v in enumerate(values.values())}
        vals[":u"] = items.ms_value(now)
        vals[":now"] = items.ttl_value(now)
        sets = ["u = :u", *(f"#a{i} = :a{i}" for i in range(len(values)))]
        removes = [f"#r{i}" for i in range(len(remove))]
        if expires is not None:
            vals[":x"] = items.ttl_value(expires)
            sets.append("#x = :x")
        else:
            removes.append("#x")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        response = self._call(
            "update_item",
            ("props",),
            TableName=self.table_name,
            Key=self._user_key(user_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_not_exists(#x) OR #x > :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=vals,
            ReturnValues="ALL_NEW",
        )
        return items.read_props(response["Attributes"])

    def _replace_expired(
        self, user_id: str, values: dict[str, Any], now: datetime, expires: datetime | None
    ) -> dict[str, Any]:
        """One PutItem, conditional on the lingering item being expired (not revived by a writer meanwhile)."""
        item = {
            **self._user_key(user_id),
            **{items.prop_attribute(k): {"S": items.dump_json(v)} for k, v in values.items()},
            "u": items.ms_value(now),
        }
        if expires is not None:
            item[items.TTL_ATTRIBUTE] = items.ttl_value(expires)
        self._call(
            "put_item",
            ("props",),
            TableName=self.table_name,
            Item=item,
            ConditionExpression="#x <= :now",
            ExpressionAttributeNames={"#x": items.TTL_ATTRIBUTE},
            ExpressionAttributeValues={":now": items.ttl_value(now)},
        )
        return items.read_props(item)

    def delete_user_props(self, user_id: str) -> bool:
        """One DeleteItem; whether the deleted item held live props."""
        response = self._call(
            "delete_item", TableName=self.table_name, Key=self._user_key(user_id), ReturnValues="ALL_OLD"
        )
        old = self._live_item(response.get("Attributes"))
        return bool(old and items.read_props(old))

    # -- global entries ---------------------------------------------------------------------------
    def _global_key(self, key: str) -> items.Item:
        return items.key(items.global_pk(key), items.HEAD_SK)

    def save_global(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> GlobalEntry:
        """Save a cross-session entry (one PutItem)."""
        entry = self._entry(key, value, ttl_seconds)
        item: items.Item = {
            **self._global_key(key),
            "v": {"S": items.dump_json(entry.value)},
            "u": items.ms_value(entry.updated_at),
        }
        if entry.expires_at is not None:
            item[items.TTL_ATTRIBUTE] = items.ttl_value(entry.expires_at)
        self._call("put_item", TableName=self.table_name, Item=item)
        return entry

    def get_global_entry(self, key: str) -> GlobalEntry | None:
        """A live cross-session entry or ``None`` (one GetItem)."""
        item = self._live_item(self._get(self._global_key(key)))
        if item is None:
            return None
        return GlobalEntry(
            key=key,
            value=json.loads(item["v"]["S"]),
            updated_at=items.updated_at(item),
            expires_at=items.expires_at(item),
        )

    def evict_global(self, key: str) -> None:
        """Remove a cross-session entry."""
        self._call("delete_item", TableName=self.table_name, Key=self._global_key(key))
