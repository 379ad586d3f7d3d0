"""Request shapes of the list on DynamoDB (moto): a stateless turn stays 2 requests; the head is touched only for
the title and once per index interval; a list page is one index Query; a rename one UpdateItem."""

from __future__ import annotations

from typing import Any

from chatstate.chat import EchoMemoryResponder
from chatstate.chat.service import ChatService
from chatstate.models import SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from devtools.template import create_session_table
from tests.contract.conftest import Clock

TABLE = "requests-sessions"


def test_turns_touch_the_head_only_for_the_title_and_once_per_interval(moto_dynamodb: Any) -> None:
    create_session_table(moto_dynamodb, TABLE)
    sent: list[str] = []
    moto_dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.*",
        lambda model, params, **_: sent.append(
            model.name + (f"[{params['IndexName']}]" if "IndexName" in params else "")
        ),
    )
    clock = Clock()
    store = DynamoDBSessionStore(TABLE, client=moto_dynamodb, policy=StorePolicy(ttl_seconds=86_400, now=clock))
    service = ChatService(store, EchoMemoryResponder())
    session = service.create_session("ana")
    ref = SessionRef.of("ana", session.session_id)
    assert sent == ["Query", "PutItem"]  # create: is it free, then the head (listed, untitled)

    def turn() -> list[str]:
        sent.clear()
        service.send_message(ref, "How do I change my flight?")
        return list(sent)

    assert turn() == ["Query", "TransactWriteItems"]  # the first message titles it: turn + head touch
    for _ in range(9):  # 9 more turns within the interval: no head write
        clock.advance(60)
        assert turn() == ["Query", "PutItem"]
    clock.advance(60)  # 10 minutes since the last touch
    assert turn() == ["Query", "TransactWriteItems"]
    clock.advance(30)
    assert turn() == ["Query", "PutItem"]

    sent.clear()
    page = store.list_sessions("ana")
    assert sent == ["Query[by-activity]"]
    assert page.sessions[0].title == "How do I change my flight?"
    sent.clear()
    store.rename(ref, "Flights")
    assert sent == ["UpdateItem"]
