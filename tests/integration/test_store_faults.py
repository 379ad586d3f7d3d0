"""Faults against the real emulator: nothing partial is ever written, and sizes match DynamoDB's."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from chatstate.exceptions import ItemTooLarge, StoreUnavailable
from chatstate.models import NewMessage, SessionRef, StatePatch
from chatstate.store import items
from chatstate.store.dynamodb import DynamoDBSessionStore

pytestmark = pytest.mark.integration
REF = SessionRef.of("alice", "s-1")


def test_failed_append_leaves_the_session_exactly_as_it_was(session_table: str, ddb_client) -> None:
    store = DynamoDBSessionStore(session_table, client=ddb_client)
    store.append(REF, [NewMessage(role="user", content="before")], state=StatePatch.of({"k": 1}))

    def unreachable(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    ddb_client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", unreachable)
    try:
        with pytest.raises(StoreUnavailable):
            store.append(REF, [NewMessage(role="user", content="lost?")], state=StatePatch.of({"k": 2}))
    finally:
        ddb_client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", unreachable)
    loaded = store.load(REF, last=10)
    assert [m.content for m in loaded.recent] == ["before"]
    assert loaded.session.state == {"k": 1}
    store.append(REF, [NewMessage(role="user", content="after")])
    assert [m.content for m in store.last_messages(REF, 10)] == ["before", "after"]


def test_size_estimate_is_safe_at_the_limit(session_table: str, ddb_client) -> None:
    """The largest message we accept, DynamoDB accepts too; one byte more and we refuse before writing."""
    store = DynamoDBSessionStore(session_table, client=ddb_client)
    probe = store.append(REF, [NewMessage(role="user", content="")])
    (item,) = [i for i in ddb_client.scan(TableName=session_table)["Items"] if i["sk"]["S"].startswith("t")]
    room = items.MAX_ITEM_BYTES - items.item_size(item) - 8  # counters/ts digits may grow a little
    assert probe.session.event_count == 1
    store.append(REF, [NewMessage(role="user", content="z" * room)])
    with pytest.raises(ItemTooLarge):
        store.append(REF, [NewMessage(role="user", content="z" * (room + 64))])
    assert store.get(REF).event_count == 2
