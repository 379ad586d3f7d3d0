"""``DynamoDBSessionStore``: the production ``SessionStore`` on one DynamoDB table with TTL.

Item layout: ``chatstate.store.items``. Request budget: ``load`` (session + last k messages) is one
Query; ``append`` (messages + metadata + state) is one ``TransactWriteItems`` (one ``PutItem`` when
there are no messages); a chat turn is therefore two requests whatever the history length.
Concurrency: the metadata item carries a version; every append is conditioned on it and retried
with the fresh item (returned by the failed condition itself, so a retry costs no extra read).
botocore's idempotency token on ``TransactWriteItems`` keeps its own network retries exactly-once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chatstate.exceptions import (
    ChatSessionError,
    ConflictError,
    InvalidCursor,
    ItemTooLarge,
    SessionExists,
    SessionNotFound,
    StoreError,
    StoreUnavailable,
)
from chatstate.models import (
    AppendResult,
    GlobalEntry,
    LoadedSession,
    Message,
    MessagePage,
    NewMessage,
    Session,
    SessionRef,
    StatePatch,
    to_jsonable,
)
from chatstate.store import items, logic
from chatstate.store.port import SessionStore, StorePolicy

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
_MAX_SEQ = 10**items.SEQ_DIGITS - 1


def _backoff(attempt: int) -> None:
    """Full-jitter exponential backoff between optimistic-concurrency attempts (the first retry is immediate)."""
    if attempt:
        time.sleep(random.uniform(0, min(0.25, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not crypto


class _ConditionFailed(Exception):
    """Internal: a write's condition failed; ``item`` is the current item when DynamoDB returned it."""

    def __init__(self, item: items.Item | None) -> None:
        super().__init__("condition failed")
        self.item = item


def _translate(exc: Exception) -> Exception:
    """Map one botocore error to the chatstate hierarchy (the only place that reads error codes)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):  # connection errors, timeouts, retries exhausted on the wire
        return StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}", retry_after_seconds=2)
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    if code == "ConditionalCheckFailedException":
        return _ConditionFailed(exc.response.get("Item"))
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        codes = {r.get("Code") for r in reasons}
        if codes & _THROTTLED:
            return StoreUnavailable("DynamoDB throttled the transaction", retry_after_seconds=1)
        if "ConditionalCheckFailed" in codes:
            first = next((r for r in reasons if r.get("Code") == "ConditionalCheckFailed"), {})
            return _ConditionFailed(first.get("Item"))
        if "TransactionConflict" in codes:
            return _ConditionFailed(None)
        if "ValidationError" in codes and "size" in message.lower():
            return ItemTooLarge("an item would exceed DynamoDB's 400 KB item limit")
        return StoreError(f"DynamoDB cancelled the transaction: {sorted(c for c in codes if c)}")
    if code == "TransactionConflictException":
        return _ConditionFailed(None)
    if code in _THROTTLED:
        return StoreUnavailable("DynamoDB throttled the request", retry_after_seconds=1)
    if code in _UNAVAILABLE:
        return StoreUnavailable("DynamoDB is unavailable", retry_after_seconds=2)
    if code == "ValidationException" and "size" in message.lower() and "exceed" in message.lower():
        return ItemTooLarge("an item would exceed DynamoDB's 400 KB item limit")
    if code == "ResourceNotFoundException":
        return StoreError("session table not found")
    return StoreError(f"DynamoDB error {code or type(exc).__name__}")


class DynamoDBSessionStore(SessionStore):
    """A ``SessionStore`` on a DynamoDB table with keys ``pk``/``sk`` and TTL on ``expires_at``.

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        client: A ready ``dynamodb`` client (tests, custom endpoints); otherwise one is created lazily.
        boto3_session: The boto3 session to create the client from (default: a new one).
        boto_config: botocore ``Config`` merged over the defaults (standard retries, short timeouts).
        policy: Lifetimes, clock, redaction (``StorePolicy``).
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
        max_attempts: int = 30,
        consistent_reads: bool = True,
        report_capacity: bool = False,
    ) -> None:
        if not table_name:
            raise ValueError("table_name is required")
        self.table_name = table_name
        self.policy = policy or StorePolicy()
        self.max_attempts = max_attempts
        self._client = client
        self._boto3_session = boto3_session
        self._boto_config = boto_config
        self._consistent = consistent_reads
        self._extra: dict[str, str] = {"ReturnConsumedCapacity": "TOTAL"} if report_capacity else {}

    @property
    def client(self) -> Any:
        """The low-level DynamoDB client, created on first use (endpoint from ``AWS_ENDPOINT_URL_DYNAMODB``).

        A created client is bounded by the invocation's budget (``chatstate.deadline.guard_client``).
        """
        if self._client is None:
            import boto3
            from botocore.config import Config

            from chatstate.deadline import guard_client

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

    # -- plumbing ---------------------------------------------------------------------------------
    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        client = self.client
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(client, operation)(**kwargs, **self._extra)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc

    def _get_meta(self, ref: SessionRef) -> Session | None:
        """The raw metadata item parsed (expired or not), or ``None``."""
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": items.session_pk(ref)}, "sk": {"S": items.SESSION_SK}},
            ConsistentRead=self._consistent,
        )
        item = response.get("Item")
        return self._parse_meta(ref, item) if item else None

    @staticmethod
    def _parse_meta(ref: SessionRef, item: items.Item) -> Session | None:
        try:
            session = items.item_to_session(item)
        except (KeyError, ValueError, TypeError) as exc:
            raise StoreError("corrupt session item") from exc
        # Defence in depth: the key already scopes the actor; never hand out a mismatching item.
        if session.actor_id != ref.actor_id or session.session_id != ref.session_id:
            return None
        return session

    def _live_meta(self, ref: SessionRef) -> Session | None:
        session = self._get_meta(ref)
        return session if logic.is_live(session, logic.now_ms(self.policy)) else None

    def _query_incarnation(
        self, ref: SessionRef, incarnation: int, *, below: int | None, limit: int
    ) -> list[items.Item]:
        """Newest-first message items of one incarnation with ``seq < below``."""
        high = items.message_sk(incarnation, (below - 1) if below else _MAX_SEQ)
        response = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": items.session_pk(ref)},
                ":lo": {"S": items.message_sk(incarnation, 0)},
                ":hi": {"S": high},
            },
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=self._consistent,
        )
        return response.get("Items", [])

    def _head(self, ref: SessionRef, messages: int) -> tuple[Session | None, list[Message]]:
        """One Query: the live session and up to ``messages`` of its newest messages (newest first)."""
        now = logic.now_ms(self.policy)
        response = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": items.session_pk(ref)}},
            ScanIndexForward=False,
            Limit=messages + 1,
            ConsistentRead=self._consistent,
        )
        found = response.get("Items", [])
        if not found or found[0]["sk"]["S"] != items.SESSION_SK:
            return None, []
        session = self._parse_meta(ref, found[0])
        if session is None or not logic.is_live(session, now):
            return None, []
        rest = found[1:]
        current = [i for i in rest if items.item_incarnation(i) == session.incarnation]
        if len(current) < len(rest) and response.get("LastEvaluatedKey") and messages > 0:
            # Leftovers of an earlier incarnation sorted above this one's messages: read this one's range.
            current = self._query_incarnation(ref, session.incarnation, below=None, limit=messages)
        return session, [items.item_to_message(i) for i in current if not items.item_expired(i, now)]

    # -- sessions ---------------------------------------------------------------------------------
    def create(self, ref: SessionRef, *, channel: str = "api", state: Mapping[str, Any] | None = None) -> Session:
        """Create a session, optionally preloaded with state."""
        now = logic.now_ms(self.policy)
        session = logic.new_session(ref, policy=self.policy, now=now, channel=channel, state=state)
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=logic.check_session_size(session),
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(items.epoch_seconds(now))}},
            )
        except _ConditionFailed as exc:
            raise SessionExists(f"session {ref.session_id!r} already exists") from exc
        return session

    def get(self, ref: SessionRef) -> Session | None:
        """The live session or ``None`` (one GetItem)."""
        return self._live_meta(ref)

    def load(self, ref: SessionRef, *, last: int = 10) -> LoadedSession | None:
        """The live session with its ``last`` most recent messages (one Query)."""
        session, newest_first = self._head(ref, max(last, 0))
        if session is None:
            return None
        return LoadedSession(session=session, recent=list(reversed(newest_first)))

    def delete(self, ref: SessionRef) -> bool:
        """Delete the session, then its messages (best effort: leftovers are invisible and expire)."""
        response = self._call(
            "delete_item",
            TableName=self.table_name,
            Key={"pk": {"S": items.session_pk(ref)}, "sk": {"S": items.SESSION_SK}},
            ReturnValues="ALL_OLD",
        )
        old_item = response.get("Attributes")
        if not old_item:
            return False
        old = self._parse_meta(ref, old_item)
        if old is None:
            return False
        try:
            self._delete_messages(ref, up_to_incarnation=old.incarnation)
        except ChatSessionError as exc:
            logger.warning(
                "session history cleanup incomplete; leftovers expire by TTL", extra={"error": type(exc).__name__}
            )
        return logic.is_live(old, logic.now_ms(self.policy))

    def _delete_messages(self, ref: SessionRef, *, up_to_incarnation: int) -> None:
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {
                    ":pk": {"S": items.session_pk(ref)},
                    ":lo": {"S": items.MESSAGE_PREFIX},
                    ":hi": {"S": items.message_sk(up_to_incarnation, _MAX_SEQ)},
                },
                "ProjectionExpression": "pk, sk",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._call("query", **kwargs)
            keys = [{"pk": i["pk"], "sk": i["sk"]} for i in page.get("Items", [])]
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

    # -- history ----------------------------------------------------------------------------------
    def append(
        self,
        ref: SessionRef,
        messages: Sequence[NewMessage],
        *,
        expected: Session | None = None,
        state: StatePatch | None = None,
        request_id: str | None = None,
        channel: str = "api",
        create: bool = True,
    ) -> AppendResult:
        """Append messages and merge a state patch in one conditional write, retried on conflicts."""
        current = expected if expected is not None and expected.ref == ref else None
        if current is None and not create:
            current = self._get_meta(ref)
        for attempt in range(self.max_attempts):
            now = logic.now_ms(self.policy)
            now_s = {"N": str(items.epoch_seconds(now))}
            if logic.is_live(current, now):
                assert current is not None
                base, condition = current, "ver = :ver AND expires_at > :now"
                values = {":ver": {"N": str(current.version)}, ":now": now_s}
            elif create:
                base = logic.new_session(ref, policy=self.policy, now=now, channel=channel, previous=current)
                condition, values = "attribute_not_exists(pk) OR expires_at <= :now", {":now": now_s}
            else:
                raise SessionNotFound(f"no live session {ref.session_id!r}")
            updated, stored = logic.plan_append(
                base, messages, policy=self.policy, now=now, patch=state, request_id=request_id
            )
            meta_put = {
                "TableName": self.table_name,
                "Item": logic.check_session_size(updated),
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            message_puts = [
                {"Put": {"TableName": self.table_name, "Item": item}}
                for item in logic.check_message_sizes(ref, updated, stored)
            ]
            try:
                if message_puts:
                    self._call("transact_write_items", TransactItems=[{"Put": meta_put}, *message_puts])
                else:
                    self._call("put_item", **meta_put)
                return AppendResult(session=updated, messages=stored)
            except _ConditionFailed as conflict:
                current = self._parse_meta(ref, conflict.item) if conflict.item else self._get_meta(ref)
                _backoff(attempt)
        raise ConflictError(f"session {ref.session_id!r} kept changing; append not applied")

    def last_messages(self, ref: SessionRef, k: int) -> list[Message]:
        """The ``k`` most recent messages, oldest first (one Query)."""
        loaded = self.load(ref, last=k)
        return loaded.recent if loaded else []

    def page_messages(self, ref: SessionRef, *, limit: int = 20, cursor: str | None = None) -> MessagePage:
        """Page back through history: the first page is one Query, later pages a GetItem and a Query."""
        logic.clamp_page_size(limit)
        now = logic.now_ms(self.policy)
        if cursor is None:
            session, newest_first = self._head(ref, limit + 1)
            if session is None:
                raise SessionNotFound(f"no live session {ref.session_id!r}")
        else:
            incarnation, before = logic.decode_cursor(ref, cursor)
            session = self._live_meta(ref)
            if session is None:
                raise SessionNotFound(f"no live session {ref.session_id!r}")
            if incarnation != session.incarnation:
                raise InvalidCursor("cursor was issued for an earlier session")
            found = self._query_incarnation(ref, incarnation, below=before, limit=limit + 1)
            newest_first = [items.item_to_message(i) for i in found if not items.item_expired(i, now)]
        page, next_cursor = logic.page_from_newest(ref, session.incarnation, newest_first, limit)
        return MessagePage(messages=page, next_cursor=next_cursor)

    def messages_between(self, ref: SessionRef, first_seq: int, last_seq: int) -> list[Message]:
        """Messages with ``first_seq <= seq <= last_seq``, oldest first."""
        session = self._live_meta(ref)
        if session is None or last_seq < first_seq:
            return []
        now = logic.now_ms(self.policy)
        found = self._query_incarnation(
            ref, session.incarnation, below=last_seq + 1, limit=max(1, last_seq - first_seq + 1)
        )
        return [items.item_to_message(i) for i in reversed(found) if not items.item_expired(i, now)]

    # -- per-session state ------------------------------------------------------------------------
    def update_state(self, ref: SessionRef, patch: StatePatch) -> Session:
        """Merge a state patch key by key (one UpdateItem; concurrent patches of other keys survive)."""
        now = logic.now_ms(self.policy)
        names: dict[str, str] = {}
        values: dict[str, Any] = {
            ":now": {"N": str(items.epoch_seconds(now))},
            ":upd": {"N": str(int(now.timestamp() * 1000))},
            ":exp": {"N": str(items.epoch_seconds(self.policy.expiry_from(now)))},
            ":one": {"N": "1"},
        }
        sets = ["updated = :upd", "expires_at = :exp"]
        for index, (key, value) in enumerate(patch.set.items()):
            names[f"#k{index}"] = key
            values[f":v{index}"] = {"S": items.dump_json(value)}
            sets.append(f"#st.#k{index} = :v{index}")
        removes = [key for key in patch.remove if key not in patch.set]
        for index, key in enumerate(removes):
            names[f"#r{index}"] = key
        expression = "SET " + ", ".join(sets) + " ADD ver :one"
        if removes:
            expression += " REMOVE " + ", ".join(f"#st.#r{i}" for i in range(len(removes)))
        names["#st"] = "state"
        logic.check_item_size(
            {"state": {"M": {k: {"S": items.dump_json(v)} for k, v in patch.set.items()}}}, "state patch"
        )
        try:
            response = self._call(
                "update_item",
                TableName=self.table_name,
                Key={"pk": {"S": items.session_pk(ref)}, "sk": {"S": items.SESSION_SK}},
                UpdateExpression=expression,
                ConditionExpression="expires_at > :now",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except _ConditionFailed as exc:
            raise SessionNotFound(f"no live session {ref.session_id!r}") from exc
        session = self._parse_meta(ref, response["Attributes"])
        if session is None:
            raise SessionNotFound(f"no live session {ref.session_id!r}")
        return session

    def clear(self, ref: SessionRef, *, retain: Iterable[str] = ()) -> Session:
        """Remove every state key except those retained (conditioned on the version read)."""
        keep = set(retain)
        for attempt in range(self.max_attempts):
            current = self._live_meta(ref)
            if current is None:
                raise SessionNotFound(f"no live session {ref.session_id!r}")
            now = logic.now_ms(self.policy)
            updated = logic.plan_state_change(
                current, {k: v for k, v in current.state.items() if k in keep}, policy=self.policy, now=now
            )
            try:
                self._call(
                    "put_item",
                    TableName=self.table_name,
                    Item=items.session_to_item(updated),
                    ConditionExpression="ver = :ver AND expires_at > :now",
                    ExpressionAttributeValues={
                        ":ver": {"N": str(current.version)},
                        ":now": {"N": str(items.epoch_seconds(now))},
                    },
                )
                return updated
            except _ConditionFailed:
                _backoff(attempt)
        raise ConflictError(f"session {ref.session_id!r} kept changing; clear not applied")

    # -- global entries ---------------------------------------------------------------------------
    def save_global(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> GlobalEntry:
        """Save a cross-session entry (one PutItem)."""
        now = logic.now_ms(self.policy)
        expires = self.policy.expiry_from(now, ttl_seconds or self.policy.global_ttl_seconds)
        entry = GlobalEntry(key=key, value=to_jsonable(value), updated_at=now, expires_at=expires)
        item = items.json_map_item(items.global_pk(key), items.GLOBAL_SK, "value", {"v": entry.value}, expires, now)
        self._call("put_item", TableName=self.table_name, Item=logic.check_item_size(item, f"global entry {key!r}"))
        return entry

    def get_global_entry(self, key: str) -> GlobalEntry | None:
        """A live cross-session entry or ``None`` (one GetItem)."""
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": items.global_pk(key)}, "sk": {"S": items.GLOBAL_SK}},
            ConsistentRead=self._consistent,
        )
        item = response.get("Item")
        if not item or items.item_expired(item, logic.now_ms(self.policy)):
            return None
        return GlobalEntry(
            key=key,
            value=items.read_json_map(item, "value").get("v"),
            updated_at=items.item_updated(item),
            expires_at=items.item_expires(item),
        )

    def evict_global(self, key: str) -> None:
        """Remove a cross-session entry."""
        self._call(
            "delete_item",
            TableName=self.table_name,
            Key={"pk": {"S": items.global_pk(key)}, "sk": {"S": items.GLOBAL_SK}},
        )

    # -- per-user props ---------------------------------------------------------------------------
    def _props_key(self, actor_id: str) -> dict[str, Any]:
        return {"pk": {"S": items.props_pk(actor_id)}, "sk": {"S": items.PROPS_SK}}

    def save_user_props(self, actor_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Merge props (one UpdateItem on a live item, else one conditional PutItem)."""
        plain = {k: to_jsonable(v) for k, v in values.items()}
        logic.check_item_size({"props": {"M": {k: {"S": items.dump_json(v)} for k, v in plain.items()}}}, "props")
        for _ in range(self.max_attempts):
            now = logic.now_ms(self.policy)
            expires = self.policy.expiry_from(now)
            now_s = {"N": str(items.epoch_seconds(now))}
            names = {"#p": "props", **{f"#k{i}": k for i, k in enumerate(plain)}}
            update_values = {
                ":now": now_s,
                ":upd": {"N": str(int(now.timestamp() * 1000))},
                ":exp": {"N": str(items.epoch_seconds(expires))},
                **{f":v{i}": {"S": items.dump_json(v)} for i, v in enumerate(plain.values())},
            }
            sets = ["updated = :upd", "expires_at = :exp", *(f"#p.#k{i} = :v{i}" for i in range(len(plain)))]
            try:
                response = self._call(
                    "update_item",
                    TableName=self.table_name,
                    Key=self._props_key(actor_id),
                    UpdateExpression="SET " + ", ".join(sets),
                    ConditionExpression="expires_at > :now",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=update_values,
                    ReturnValues="ALL_NEW",
                )
                return items.read_json_map(response["Attributes"], "props")
            except _ConditionFailed:
                pass
            item = items.json_map_item(items.props_pk(actor_id), items.PROPS_SK, "props", plain, expires, now)
            try:
                self._call(
                    "put_item",
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues={":now": now_s},
                )
                return dict(plain)
            except _ConditionFailed:
                continue
        raise ConflictError("user props kept changing; not saved")

    def get_user_props(self, actor_id: str) -> dict[str, Any]:
        """All live props of an actor (one GetItem)."""
        response = self._call(
            "get_item", TableName=self.table_name, Key=self._props_key(actor_id), ConsistentRead=self._consistent
        )
        item = response.get("Item")
        if not item or items.item_expired(item, logic.now_ms(self.policy)):
            return {}
        return items.read_json_map(item, "props")

    def evict_user_props(self, actor_id: str, *keys: str) -> None:
        """Remove some props of a live props item (absent or expired: nothing to do)."""
        if not keys:
            return
        now = logic.now_ms(self.policy)
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=self._props_key(actor_id),
                UpdateExpression="REMOVE " + ", ".join(f"#p.#k{i}" for i in range(len(keys))),
                ConditionExpression="expires_at > :now",
                ExpressionAttributeNames={"#p": "props", **{f"#k{i}": k for i, k in enumerate(keys)}},
                ExpressionAttributeValues={":now": {"N": str(items.epoch_seconds(now))}},
            )
        except _ConditionFailed:
            return
