"""``DynamoDBSessionStore``: the production ``SessionStore`` on one DynamoDB table with TTL.

Only the backend primitives live here (the algorithm is ``BaseSessionStore``'s); the item layout is
``chatstate.store.items``. Request budget: ``load``/``get`` (head + newest turns) is one Query; a turn
is one conditional ``PutItem`` keyed by its turn number (``attribute_not_exists``), or one
``TransactWriteItems`` when it also changes the state, refreshes the head's TTL or records an
idempotency key. A chat turn is therefore two requests whatever the history length.
botocore's idempotency token on ``TransactWriteItems`` keeps its own network retries exactly-once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatstate.exceptions import (
    ConflictError,
    ItemTooLarge,
    StoreError,
    StoreUnavailable,
)
from chatstate.models import RequestRecord, SessionRef
from chatstate.store import items, logic
from chatstate.store.base import DEFAULT_MAX_ATTEMPTS, BaseSessionStore, WriteConflict
from chatstate.store.port import StorePolicy
from chatstate.store.records import Head, HeadWrite, Snapshot, Turn

if TYPE_CHECKING:
    from boto3.session import Session as Boto3Session
    from botocore.config import Config

logger = logging.getLogger(__name__)

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
}
_UNAVAILABLE = {"InternalServerError", "ServiceUnavailable", "InternalFailure", "ServiceUnavailableException"}


def _translate(exc: Exception, kinds: tuple[str, ...] = ()) -> Exception:
    """Map one botocore error to the chatstate hierarchy (the only place that reads error codes).

    ``kinds`` names what each written item is (one per ``TransactItems`` entry), so a failed
    condition becomes a ``WriteConflict`` naming the items whose condition failed.
    """
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):  # connection errors, timeouts, retries exhausted on the wire
        return StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}", retry_after_seconds=2)
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    if code == "ConditionalCheckFailedException":
        return WriteConflict(kinds)
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        codes = {r.get("Code") for r in reasons}
        if codes & _THROTTLED:
            return StoreUnavailable("DynamoDB throttled the transaction", retry_after_seconds=1)
        if "ConditionalCheckFailed" in codes:
            failed = [
                kinds[i] for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed" and i < len(kinds)
            ]
            return WriteConflict(failed)
        if "TransactionConflict" in codes:
            return WriteConflict()
        if "ValidationError" in codes and "size" in message.lower():
            return ItemTooLarge("an item would exceed DynamoDB's 400 KB item limit")
        return StoreError(f"DynamoDB cancelled the transaction: {sorted(c for c in codes if c)}")
    if code == "TransactionConflictException":
        return WriteConflict()
    if code in _THROTTLED:
        return StoreUnavailable("DynamoDB throttled the request", retry_after_seconds=1)
    if code in _UNAVAILABLE:
        return StoreUnavailable("DynamoDB is unavailable", retry_after_seconds=2)
    if code == "ValidationException" and "size" in message.lower() and "exceed" in message.lower():
        return ItemTooLarge("an item would exceed DynamoDB's 400 KB item limit")
    if code == "ResourceNotFoundException":
        return StoreError("session table not found")
    return StoreError(f"DynamoDB error {code or type(exc).__name__}")


class DynamoDBTable:
    """A table and its lazily built low-level client: the one place a DynamoDB client is constructed.

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        client: A ready ``dynamodb`` client (tests, custom endpoints); otherwise one is created lazily.
        boto3_session: The boto3 session to create the client from (default: a new botocore session).
        boto_config: botocore ``Config`` merged over the defaults (standard retries, short timeouts).
        consistent_reads: Strongly consistent reads (read-your-writes; twice the read units).
        report_capacity: Ask DynamoDB for consumed capacity on every call (benchmarks).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        boto3_session: Boto3Session | None = None,
        boto_config: Config | None = None,
        consistent_reads: bool = True,
        report_capacity: bool = False,
    ) -> None:
        if not table_name:
            raise ValueError("table_name is required")
        self.table_name = table_name
        self._client = client
        self._boto3_session = boto3_session
        self._boto_config = boto_config
        self._consistent = consistent_reads
        self._extra: dict[str, str] = {"ReturnConsumedCapacity": "TOTAL"} if report_capacity else {}

    @property
    def client(self) -> Any:
        """The low-level DynamoDB client, created on first use (endpoint from ``AWS_ENDPOINT_URL_DYNAMODB``).

        A created client is bounded by the invocation's budget (``chatstate.deadline.guard_client``), and
        botocore's wire logs are capped at INFO (``chatstate.logsafe.quiet_wire_logs``).
        """
        if self._client is None:
            from botocore.config import Config

            from chatstate.deadline import guard_client
            from chatstate.logsafe import quiet_wire_logs

            quiet_wire_logs()  # botocore logs request/response bodies at DEBUG
            config = Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=1,
                read_timeout=3,
                tcp_keepalive=True,
            )
            if self._boto_config is not None:
                config = config.merge(self._boto_config)
            if self._boto3_session is not None:
                client = self._boto3_session.client("dynamodb", config=config)
            else:  # botocore's own session: a low-level client needs nothing boto3 adds, and Init skips its import
                import botocore.session

                client = botocore.session.get_session().create_client("dynamodb", config=config)
            self._client = guard_client(client, what="DynamoDB")
        return self._client

    def _call(self, operation: str, kinds: tuple[str, ...] = (), **kwargs: Any) -> dict[str, Any]:
        client = self.client
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result: dict[str, Any] = getattr(client, operation)(**kwargs, **self._extra)
            return result
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, kinds) from exc

    def _get(self, key: items.Item) -> items.Item | None:
        response = self._call("get_item", TableName=self.table_name, Key=key, ConsistentRead=self._consistent)
        return response.get("Item")


class DynamoDBSessionStore(DynamoDBTable, BaseSessionStore):
    """A ``SessionStore`` on a DynamoDB table with keys ``pk``/``sk`` and TTL on ``expires_at``.

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        client: A ready ``dynamodb`` client (tests, custom endpoints); otherwise one is created lazily.
        boto3_session: The boto3 session to create the client from (default: a new botocore session).
        boto_config: botocore ``Config`` merged over the defaults (standard retries, short timeouts).
        policy: Lifetimes, clock, redaction, idempotency window (``StorePolicy``).
        max_attempts: Optimistic-concurrency attempts before ``ConflictError``.
        consistent_reads: Strongly consistent reads (read-your-writes; twice the read units).
        report_capacity: Ask DynamoDB for consumed capacity on every call (benchmarks).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        boto3_session: Boto3Session | None = None,
        boto_config: Config | None = None,
        policy: StorePolicy | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        consistent_reads: bool = True,
        report_capacity: bool = False,
    ) -> None:
        DynamoDBTable.__init__(
            self,
            table_name,
            client=client,
            boto3_session=boto3_session,
            boto_config=boto_config,
            consistent_reads=consistent_reads,
            report_capacity=report_capacity,
        )
        BaseSessionStore.__init__(self, policy, max_attempts=max_attempts)

    # -- reads ------------------------------------------------------------------------------------
    @staticmethod
    def _parse(parse: Any, item: items.Item) -> Any:
        try:
            return parse(item)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise StoreError("corrupt session item") from exc

    def _query(self, ref: SessionRef, condition: str, values: dict[str, Any], limit: int) -> dict[str, Any]:
        return self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression=condition,
            ExpressionAttributeValues={":pk": {"S": items.session_pk(ref)}, **values},
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=self._consistent,
        )

    def _read(self, ref: SessionRef, turns: int) -> Snapshot:
        response = self._query(ref, "pk = :pk", {}, turns + 1)
        found = response.get("Items", [])
        if not found or found[0]["sk"]["S"] != items.HEAD_SK:
            return Snapshot(None)
        head = self._parse(items.item_to_head, found[0])
        current = [i for i in found[1:] if items.is_turn_of(i, head.incarnation)]
        more = bool(response.get("LastEvaluatedKey")) and len(current) == len(found) - 1
        return Snapshot(head, [self._parse(items.item_to_turn, i) for i in current], more)

    def _read_turns(self, ref: SessionRef, incarnation: int, below: int, limit: int) -> tuple[list[Turn], bool]:
        if below <= 1:
            return [], False
        response = self._query(
            ref,
            "pk = :pk AND sk BETWEEN :lo AND :hi",
            {
                ":lo": {"S": items.turn_sk(incarnation, 0)},
                ":hi": {"S": items.turn_sk(incarnation, min(below - 1, items.MAX_TURN))},
            },
            limit,
        )
        turns = [self._parse(items.item_to_turn, i) for i in response.get("Items", [])]
        return turns, bool(response.get("LastEvaluatedKey"))

    def _get_head(self, ref: SessionRef) -> Head | None:
        item = self._get(items.key(items.session_pk(ref), items.HEAD_SK))
        return self._parse(items.item_to_head, item) if item else None

    def _get_request(self, ref: SessionRef, request_id: str) -> RequestRecord | None:
        item = self._get(items.key(items.session_pk(ref), items.request_sk(request_id)))
        return self._parse(items.item_to_request, item) if item else None

    # -- writes -----------------------------------------------------------------------------------
    def _head_operation(self, ref: SessionRef, write: HeadWrite) -> tuple[str, dict[str, Any]]:
        head = write.head
        inc = {":i": {"N": str(head.incarnation)}}
        if write.mode == "touch":
            items.checked_head_item(ref, head)  # an update: DynamoDB would refuse a head it makes too large
            sets = ["expires_at = :x", "n = :n", "e = :e", "m = :m"]
            values = {
                **inc,
                ":x": items.ttl_value(head.expires_at),
                ":n": {"N": str(head.turns)},
                ":e": {"N": str(head.event_count)},
                ":m": {"N": str(head.message_count)},
            }
            if head.activity is not None:  # the list's index entry: scope (backfills an unlisted head) and activity
                sets += [f"{items.INDEX_PK} = :ga", f"{items.INDEX_SK} = :la"]
                values[":ga"] = {"S": items.actor_scope(ref.channel, ref.actor_id)}
                values[":la"] = items.ms_value(head.activity)
            if head.title is not None:  # a rename meanwhile wins
                sets.append("ti = if_not_exists(ti, :ti)")
                values[":ti"] = {"S": head.title}
            return "Update", {
                "TableName": self.table_name,
                "Key": items.key(items.session_pk(ref), items.HEAD_SK),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": "i = :i",
                "ExpressionAttributeValues": values,
            }
        put: dict[str, Any] = {"TableName": self.table_name, "Item": items.checked_head_item(ref, head)}
        if write.mode == "replace":
            put["ConditionExpression"] = "i = :i AND v = :v"
            put["ExpressionAttributeValues"] = {**inc, ":v": {"N": str(write.expect_version)}}
        elif write.expect_incarnation is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "i = :i"
            put["ExpressionAttributeValues"] = {":i": {"N": str(write.expect_incarnation)}}
        return "Put", put

    def _write(
        self,
        ref: SessionRef,
        incarnation: int,
        *,
        turn: Turn | None = None,
        head: HeadWrite | None = None,
        request: RequestRecord | None = None,
    ) -> None:
        operations: list[tuple[str, str, dict[str, Any]]] = []
        if turn is not None:
            item = items.checked_turn_item(ref, incarnation, turn)
            put = {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
            operations.append(("turn", "Put", put))
        if head is not None:
            operations.append(("head", *self._head_operation(ref, head)))
        if request is not None:
            now = items.ttl_value(logic.now_ms(self.policy))
            put = {
                "TableName": self.table_name,
                "Item": items.request_to_item(ref, request),
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                "ExpressionAttributeValues": {":now": now},
            }
            operations.append(("request", "Put", put))
        kinds = tuple(kind for kind, _, _ in operations)
        if len(operations) == 1:
            _, action, params = operations[0]
            self._call("put_item" if action == "Put" else "update_item", kinds, **params)
        else:
            self._call("transact_write_items", kinds, TransactItems=[{action: p} for _, action, p in operations])

    def _purge(self, ref: SessionRef, incarnation: int) -> bool:
        try:
            self._call(
                "delete_item",
                ("head",),
                TableName=self.table_name,
                Key=items.key(items.session_pk(ref), items.HEAD_SK),
                ConditionExpression="i = :i",
                ExpressionAttributeValues={":i": {"N": str(incarnation)}},
            )
        except WriteConflict:
            return False
        try:
            self._delete_history(ref, incarnation)
        except (StoreUnavailable, StoreError, ConflictError) as exc:
            logger.warning(
                "session history cleanup incomplete; leftovers expire by TTL", extra={"error": type(exc).__name__}
            )
        return True

    def _delete_history(self, ref: SessionRef, incarnation: int) -> None:
        """Delete the turns and idempotency records of ``incarnation`` and older ones (never a newer session's)."""
        newest_turn = items.turn_sk(incarnation, items.MAX_TURN)
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND sk < :head",
                "ExpressionAttributeValues": {":pk": {"S": items.session_pk(ref)}, ":head": {"S": items.HEAD_SK}},
                "ProjectionExpression": "pk, sk, i",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._call("query", **kwargs)
            keys = []
            for item in page.get("Items", []):
                sk = item["sk"]["S"]
                is_turn = sk.startswith(items.TURN_PREFIX) and sk <= newest_turn
                is_record = sk.startswith(items.REQUEST_PREFIX) and int(item.get("i", {"N": "0"})["N"]) <= incarnation
                if is_turn or is_record:
                    keys.append({"pk": item["pk"], "sk": item["sk"]})
            for offset in range(0, len(keys), 25):
                self._batch_delete(keys[offset : offset + 25])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    # -- the conversation list and a user's data ----------------------------------------------------
    def _list(
        self, scope: str, floor: datetime | None, after: tuple[int, str] | None, limit: int
    ) -> list[tuple[str, Head]]:
        values: dict[str, Any] = {":g": {"S": scope}}
        condition = f"{items.INDEX_PK} = :g"
        if floor is not None:
            condition += f" AND {items.INDEX_SK} > :f"
            values[":f"] = items.ms_value(floor)
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": items.INDEX_NAME,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {
                items.INDEX_PK: {"S": scope},
                items.INDEX_SK: {"N": str(after[0])},
                **items.key(scope + after[1], items.HEAD_SK),
            }
        response = self._call("query", **kwargs)
        return [
            (items.session_id_of(item["pk"]["S"], scope), self._parse(items.index_entry_to_head, item))
            for item in response.get("Items", [])
        ]

    def _rename(
        self, ref: SessionRef, title: str, now: datetime, head_after: datetime, activity_after: datetime
    ) -> Head | None:
        try:
            response = self._call(
                "update_item",
                ("head",),
                TableName=self.table_name,
                Key=items.key(items.session_pk(ref), items.HEAD_SK),
                UpdateExpression=(
                    f"SET ti = :t, v = v + :one, {items.INDEX_PK} = :g, "
                    f"{items.INDEX_SK} = if_not_exists({items.INDEX_SK}, :now)"
                ),
                ConditionExpression=f"attribute_exists(i) AND (expires_at > :h OR {items.INDEX_SK} > :a)",
                ExpressionAttributeValues={
                    ":t": {"S": title},
                    ":one": {"N": "1"},
                    ":g": {"S": items.actor_scope(ref.channel, ref.actor_id)},
                    ":now": items.ms_value(now),
                    ":h": items.ttl_value(head_after),
                    ":a": items.ms_value(activity_after),
                },
                ReturnValues="ALL_NEW",
            )
        except WriteConflict:
            return None
        head: Head = self._parse(items.item_to_head, response["Attributes"])
        return head

    def _wipe(self, ref: SessionRef) -> tuple[dict[str, int], bool]:
        """One keys-only Query page (ascending: records, turns, then the head) and its deletes, 25 per batch."""
        response = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": items.session_pk(ref)}},
            ProjectionExpression="pk, sk",
            Limit=_WIPE_PAGE,
            ConsistentRead=True,
        )
        found = response.get("Items", [])
        counts = {"sessions": 0, "turns": 0, "requests": 0}
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in found if i["sk"]["S"] != items.HEAD_SK]
        for key in keys:
            counts["turns" if key["sk"]["S"].startswith(items.TURN_PREFIX) else "requests"] += 1
        for offset in range(0, len(keys), 25):
            self._batch_delete(keys[offset : offset + 25])
        head = any(i["sk"]["S"] == items.HEAD_SK for i in found)
        if response.get("LastEvaluatedKey") and not head:
            return counts, False
        if head:
            self._call("delete_item", TableName=self.table_name, Key=items.key(items.session_pk(ref), items.HEAD_SK))
            counts["sessions"] = 1
        return counts, True

    def _turn_items(self, ref: SessionRef, author: str, projection: str | None) -> list[items.Item]:
        found: list[items.Item] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :t)",
                "FilterExpression": "w = :w",
                "ExpressionAttributeValues": {
                    ":pk": {"S": items.session_pk(ref)},
                    ":t": {"S": items.TURN_PREFIX},
                    ":w": {"S": author},
                },
                "ConsistentRead": True,
            }
            if projection:
                kwargs["ProjectionExpression"] = projection
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._call("query", **kwargs)
            found.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def _authored(self, ref: SessionRef, author: str) -> list[tuple[int, Turn]]:
        return [
            (items.incarnation_of_turn(item), self._parse(items.item_to_turn, item))
            for item in self._turn_items(ref, author, None)
        ]

    def _delete_authored(self, ref: SessionRef, author: str) -> int:
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in self._turn_items(ref, author, "pk, sk")]
        for offset in range(0, len(keys), 25):
            self._batch_delete(keys[offset : offset + 25])
        return len(keys)

    def _put_link(self, user_id: str, ref: SessionRef, expires_at: datetime) -> None:
        item = {
            **items.key(items.user_pk(user_id), items.link_sk(ref)),
            items.TTL_ATTRIBUTE: items.ttl_value(expires_at),
        }
        self._call("put_item", TableName=self.table_name, Item=item)

    def _links(self, user_id: str) -> list[SessionRef]:
        refs: list[SessionRef] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :l)",
                "ExpressionAttributeValues": {":pk": {"S": items.user_pk(user_id)}, ":l": {"S": items.LINK_PREFIX}},
                "ProjectionExpression": "sk",
                "ConsistentRead": True,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._call("query", **kwargs)
            refs.extend(self._parse(lambda i: items.ref_of_link(i["sk"]["S"]), i) for i in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return refs

    def _delete_link(self, user_id: str, ref: SessionRef) -> None:
        self._call("delete_item", TableName=self.table_name, Key=items.key(items.user_pk(user_id), items.link_sk(ref)))

    def _batch_delete(self, keys: list[dict[str, Any]]) -> None:
        requests = [{"DeleteRequest": {"Key": key}} for key in keys]
        for attempt in range(6):
            response = self._call("batch_write_item", RequestItems={self.table_name: requests})
            requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
            if not requests:
                return
            time.sleep(min(1.0, 0.05 * 2**attempt))
        raise StoreUnavailable("DynamoDB left deletes unprocessed")


_WIPE_PAGE = 500
"""Keys per erase page: one Query (about 50 KB of keys) and 20 BatchWriteItem requests."""
