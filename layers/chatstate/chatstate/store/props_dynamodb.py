"""``DynamoDBPropsStore``: user props and global entries on the session table, in their own key spaces.

A user's props are one item (``pk`` ``U<user id>``, ``sk`` ``~``) with one attribute per field
(``p.<name>``, JSON text): ``merge_user_props`` is one ``UpdateItem`` whatever fields it sets or
removes, so concurrent writers of different fields never clobber each other. A global entry is one
item (``pk`` ``G<key>``). Both expire through the table's TTL when a lifetime is configured, and are
checked for expiry on every read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chatstate.exceptions import ConflictError
from chatstate.models import GlobalEntry, to_jsonable
from chatstate.store import items, logic
from chatstate.store.base import WriteConflict
from chatstate.store.dynamodb import DynamoDBTable
from chatstate.store.props import PropsStore

_ATTEMPTS = 3


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

    def merge_user_props(
        self, user_id: str, values: Mapping[str, Any] | None = None, *, remove: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Set and remove fields in one conditional UpdateItem (an expired item is replaced, not merged)."""
        plain = {k: to_jsonable(v) for k, v in (values or {}).items()}
        self._check_size(plain, "user props")
        drops = [name for name in dict.fromkeys(remove) if name not in plain]
        for _ in range(_ATTEMPTS):
            now = self._now()
            names = {f"#a{i}": items.prop_attribute(k) for i, k in enumerate(plain)}
            names.update({f"#r{i}": items.prop_attribute(k) for i, k in enumerate(drops)})
            names["#x"] = items.TTL_ATTRIBUTE
            vals: dict[str, Any] = {f":a{i}": {"S": items.dump_json(v)} for i, v in enumerate(plain.values())}
            vals[":u"] = {"N": str(int(now.timestamp() * 1000))}
            vals[":now"] = {"N": str(logic.epoch_seconds(now))}
            sets = ["u = :u", *(f"#a{i} = :a{i}" for i in range(len(plain)))]
            expires = self._expiry(now, self.ttl_seconds)
            if expires is not None:
                vals[":x"] = {"N": str(logic.epoch_seconds(expires))}
                sets.append("#x = :x")
            expression = "SET " + ", ".join(sets)
            if drops:
                expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(drops)))
            if expires is None:
                expression += " REMOVE #x" if not drops else ", #x"
            try:
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
            except WriteConflict:
                pass
            fresh = {items.prop_attribute(k): {"S": items.dump_json(v)} for k, v in plain.items()}
            item = {**self._user_key(user_id), **fresh, "u": vals[":u"]}
            if expires is not None:
                item[items.TTL_ATTRIBUTE] = vals[":x"]
            try:  # an expired item still lingers (TTL lags): replace it whole, unless a writer revived it meanwhile
                self._call(
                    "put_item",
                    ("props",),
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="#x <= :now",
                    ExpressionAttributeNames={"#x": items.TTL_ATTRIBUTE},
                    ExpressionAttributeValues={":now": vals[":now"]},
                )
                return items.read_props(item)
            except WriteConflict:
                continue
        raise ConflictError("user props kept changing; not saved")

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
            "u": {"N": str(int(entry.updated_at.timestamp() * 1000))},
        }
        if entry.expires_at is not None:
            item[items.TTL_ATTRIBUTE] = {"N": str(logic.epoch_seconds(entry.expires_at))}
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
