"""``DynamoDBSessionRepository``: the Strands repository's primitives on chatstate's DynamoDB session table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatstate.exceptions import ChatSessionError, ItemTooLarge
from chatstate.store.base import WriteConflict
from chatstate.store.dynamodb import DynamoDBTable
from chatstate.strands import items
from chatstate.strands.repository import (
    BaseSessionRepository,
    Condition,
    SessionStoreError,
    SessionTooLarge,
)

if TYPE_CHECKING:
    from boto3.session import Session as Boto3Session
    from botocore.config import Config

_CONDITIONS = {
    "new": "attribute_not_exists(pk) OR expires_at <= :now",
    "version": "attribute_exists(pk) AND v = :v",
    "never_updated": "attribute_exists(pk) AND attribute_not_exists(v)",
    "live_version": "v = :v AND expires_at > :now",
}


class DynamoDBSessionRepository(BaseSessionRepository):
    """Strands' ``SessionRepository`` on chatstate's session table, in a key space of its own.

    Requests: a restore or a read back is one ``Query`` per page; a turn, a message, an agent snapshot or a
    multi-agent state one conditional ``PutItem``; a session record's TTL refresh one ``UpdateItem``.

    Args:
        table_name: The session table (``SESSION_TABLE_NAME``).
        actor_id: Whose sessions these are: sessions of different actors never meet, whatever their ids.
        ttl_seconds: How long a turn lives after it was written (default 24 h); the session record's
            lifetime is pushed forward by activity.
        client: A ready ``dynamodb`` client (created once per execution environment); otherwise one is
            created lazily from ``boto_session`` (or a new session in ``region_name``).
        boto_session: The boto3 session to create the client from.
        boto_client_config: botocore ``Config`` merged over the store's defaults.
        region_name: Region of the table when no client or session is given.
        now: Clock returning an aware UTC datetime (tests).
    """

    def __init__(
        self,
        *,
        table_name: str,
        actor_id: str = "default",
        ttl_seconds: int | None = None,
        client: Any | None = None,
        boto_session: Boto3Session | None = None,
        boto_client_config: Config | None = None,
        region_name: str | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(actor_id=actor_id, ttl_seconds=ttl_seconds, now=now)
        if boto_session is None and region_name is not None and client is None:
            from boto3.session import Session

            boto_session = Session(region_name=region_name)
        self._table = DynamoDBTable(
            table_name, client=client, boto3_session=boto_session, boto_config=boto_client_config
        )

    @property
    def client(self) -> Any:
        """The low-level DynamoDB client (created on first use)."""
        return self._table.client

    @property
    def table_name(self) -> str:
        """The session table."""
        return self._table.table_name

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One call; a failed condition raises ``WriteConflict``, another failure ``SessionStoreError``."""
        try:
            return self._table._call(operation, ("item",), **kwargs)
        except WriteConflict:
            raise
        except ItemTooLarge as exc:
            raise SessionTooLarge(str(exc)) from exc
        except ChatSessionError as exc:
            retry = getattr(exc, "retry_after_seconds", None)
            raise SessionStoreError(str(exc), retry_after_seconds=retry) from exc

    def _get_item(self, pk: str, sk: str) -> items.Item | None:
        response = self._call("get_item", TableName=self.table_name, Key=items.key(pk, sk), ConsistentRead=True)
        item: items.Item | None = response.get("Item")
        return item

    def _put_item(self, item: items.Item, condition: Condition) -> None:
        kind = "never_updated" if condition.kind == "version" and not condition.version else condition.kind
        values: dict[str, Any] = {}
        if kind in ("new", "live_version"):
            values[":now"] = {"N": str(items.epoch_seconds(self._now()))}
        if kind in ("version", "live_version"):
            values[":v"] = {"N": str(condition.version)}
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": item, "ConditionExpression": _CONDITIONS[kind]}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        self._call("put_item", **kwargs)

    def _refresh(self, pk: str, sk: str, expires_at: int) -> None:
        self._call(
            "update_item",
            TableName=self.table_name,
            Key=items.key(pk, sk),
            UpdateExpression="SET expires_at = :x",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":x": {"N": str(expires_at)}},
        )

    def _query(self, pk: str, lo: str, hi: str, limit: int | None, start: Any) -> tuple[list[items.Item], Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":lo": {"S": lo}, ":hi": {"S": hi}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if limit is not None:
            kwargs["Limit"] = max(1, limit)
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self._call("query", **kwargs)
        found: list[items.Item] = page.get("Items", [])
        return found, page.get("LastEvaluatedKey") or None

    def _partition_keys(self, pk: str) -> list[items.Item]:
        keys: list[items.Item] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ProjectionExpression": "pk, sk",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._call("query", **kwargs)
            keys.extend({"pk": i["pk"], "sk": i["sk"]} for i in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return keys

    def _delete(self, keys: list[items.Item]) -> None:
        for offset in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": k}} for k in keys[offset : offset + 25]]
            for _ in range(6):
                response = self._call("batch_write_item", RequestItems={self.table_name: requests})
                requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if not requests:
                    break
            if requests:
                raise SessionStoreError("DynamoDB left deletes unprocessed", retry_after_seconds=1)
