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
    import boto3
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
        boto3_session: The boto3 session to create the client from (default: a new one).
        boto_config: botocore ``Config`` merged over the defaults (standard retries, short timeouts).
        consistent_reads: Strongly consistent reads (read-your-writes; twice the read units).
        report_capacity: Ask DynamoDB for consumed capacity on every call (benchmarks).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        boto3_session: boto3.session.Session | None = None,
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
            import boto3
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
            session = self._boto3_session or boto3.session.Session()
            self._client = guard_client(session.client("dynamodb", config=config), what="DynamoDB")
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
        boto3_session: The boto3 session to create the client from (default: a new one).
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
        boto3_session: boto3.session.Session | None = None,
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
            return "Update", {
                "TableName": self.table_name,
                "Key": items.key(items.session_pk(ref), items.HEAD_SK),
                "UpdateExpression": "SET expires_at = :x, n = :n, e = :e, m = :m",
                "ConditionExpression": "i = :i",
                "ExpressionAttributeValues": {
                    **inc,
                    ":x": {"N": str(logic.epoch_seconds(head.expires_at))},
                    ":n": {"N": str(head.turns)},
                    ":e": {"N": str(head.event_count)},
                    ":m": {"N": str(head.message_count)},
                },
            }
        put: dict[str, Any] = {"TableName": self.table_name, "Item": items.head_to_item(ref, head)}
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
            item = items.turn_to_item(ref, incarnation, turn)
            put = {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
            operations.append(("turn", "Put", put))
        if head is not None:
            operations.append(("head", *self._head_operation(ref, head)))
        if request is not None:
            now = {"N": str(logic.epoch_seconds(logic.now_ms(self.policy)))}
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

    def _batch_delete(self, keys: list[dict[str, Any]]) -> None:
        requests = [{"DeleteRequest": {"Key": key}} for key in keys]
        for attempt in range(6):
            response = self._call("batch_write_item", RequestItems={self.table_name: requests})
            requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
            if not requests:
                return
            time.sleep(min(1.0, 0.05 * 2**attempt))
        raise StoreUnavailable("DynamoDB left deletes unprocessed")
