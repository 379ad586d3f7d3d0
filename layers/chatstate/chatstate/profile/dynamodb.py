"""``DynamoDBProfileStore``: profiles on the session table, one item per verified user.

Item: ``pk = "PROFILE#<sub>"``, ``sk = "PROFILE"``; each field is a top-level attribute ``f_<field>``
holding its JSON text; ``updated`` (epoch ms) and ``expires_at`` (epoch seconds, the table's TTL
attribute) on every item. Session items live under ``S#…``, so no session or actor id can address a
profile. ``get`` is one GetItem; ``merge`` is one UpdateItem (atomic: concurrent merges of different
fields all survive), plus a conditional PutItem only when an expired profile still lingers (TTL
deletion lags), so its old fields never come back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chatstate import deadline
from chatstate.exceptions import ConflictError
from chatstate.profile.port import ProfileStore, check_subject
from chatstate.store.base import WriteConflict
from chatstate.store.dynamodb import DynamoDBTable

PK_PREFIX = "PROFILE#"
SK = "PROFILE"
FIELD_PREFIX = "f_"
_ATTEMPTS = 4


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class DynamoDBProfileStore(DynamoDBTable, ProfileStore):
    """A ``ProfileStore`` on the session table (keys ``pk``/``sk``, TTL on ``expires_at``).

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        client: A ready ``dynamodb`` client; otherwise one is created lazily (endpoint from
            ``AWS_ENDPOINT_URL_DYNAMODB``).
        **kwargs: ``ttl_seconds``, ``now`` (``ProfileStore``).
    """

    def __init__(self, table_name: str, *, client: Any | None = None, **kwargs: Any) -> None:
        DynamoDBTable.__init__(self, table_name, client=client)
        ProfileStore.__init__(self, **kwargs)

    def _call(self, operation: str, kinds: tuple[str, ...] = (), **kwargs: Any) -> dict[str, Any]:
        deadline.check(f"profile {operation}")
        return DynamoDBTable._call(self, operation, kinds, **kwargs)

    @staticmethod
    def _key(subject: str) -> dict[str, Any]:
        return {"pk": {"S": PK_PREFIX + check_subject(subject)}, "sk": {"S": SK}}

    @staticmethod
    def _fields(item: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name[len(FIELD_PREFIX) :]: json.loads(value["S"])
            for name, value in item.items()
            if name.startswith(FIELD_PREFIX) and "S" in value
        }

    def get(self, subject: str) -> dict[str, Any]:
        """The live profile's fields (one strongly consistent GetItem)."""
        response = self._call("get_item", TableName=self.table_name, Key=self._key(subject), ConsistentRead=True)
        item = response.get("Item")
        if not item or int(item.get("expires_at", {}).get("N", "0")) <= _epoch(self.now()):
            return {}
        return self._fields(item)

    def merge(self, subject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``fields`` in one UpdateItem (``None`` removes a field); refreshes the expiry."""
        key = self._key(subject)
        for _ in range(_ATTEMPTS):
            now = self.now()
            expires = now + timedelta(seconds=self.ttl_seconds)
            names = {"#pk": "pk", **{f"#f{i}": FIELD_PREFIX + name for i, name in enumerate(fields)}}
            values: dict[str, Any] = {
                ":now": {"N": str(_epoch(now))},
                ":upd": {"N": str(int(now.timestamp() * 1000))},
                ":exp": {"N": str(_epoch(expires))},
            }
            sets = ["updated = :upd", "expires_at = :exp"]
            removes = []
            for i, value in enumerate(fields.values()):
                if value is None:
                    removes.append(f"#f{i}")
                else:
                    values[f":v{i}"] = {"S": json.dumps(value, separators=(",", ":"), ensure_ascii=False)}
                    sets.append(f"#f{i} = :v{i}")
            expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
            try:
                response = self._call(
                    "update_item",
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression=expression,
                    ConditionExpression="attribute_not_exists(#pk) OR expires_at > :now",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
                return self._fields(response["Attributes"])
            except WriteConflict:
                pass
            fresh = {FIELD_PREFIX + name: values[f":v{i}"] for i, name in enumerate(fields) if f":v{i}" in values}
            item = {**key, **fresh, "updated": values[":upd"], "expires_at": values[":exp"]}
            try:  # an expired profile still lingers: replace it, unless someone revived it meanwhile
                self._call(
                    "put_item",
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="expires_at <= :now",
                    ExpressionAttributeValues={":now": values[":now"]},
                )
                return self._fields(item)
            except WriteConflict:
                continue
        raise ConflictError("the profile kept changing; not saved")
