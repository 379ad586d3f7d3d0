"""Functional: chat_app with the real DynamoDB store on moto's ``mock_aws`` (table from template.yaml)."""

from __future__ import annotations

import chat_app
import pytest

from chatstate.chat import EchoMemoryResponder
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from devtools.template import create_session_table
from tests.unit.chat_support import Clock, call, http_event
from tests.wiring import TEST_SETTINGS

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def moto_chat(moto_dynamodb):
    create_session_table(moto_dynamodb, "chat-sessions")
    clock = Clock()
    store = DynamoDBSessionStore("chat-sessions", client=moto_dynamodb, policy=StorePolicy(ttl_seconds=600, now=clock))
    chat_app.configure(settings=TEST_SETTINGS, store=store, responder=EchoMemoryResponder())
    yield clock
    chat_app.configure()


def send(session_id, message, actor="alice", key=None):
    headers = {"Idempotency-Key": key} if key else None
    return call(
        http_event("POST", f"/sessions/{session_id}/messages", actor=actor, body={"message": message}, headers=headers)
    )


def test_conversation_on_dynamodb(moto_chat):
    created = call(http_event("POST", "/sessions", body={"state": {"name": "Alice", "plan": "pro"}}))
    assert created.status == 201
    sid = created.body["session_id"]
    first = send(sid, "hello", key="k1")
    assert first.body["message_count"] == 1
    assert first.body["reply"].startswith("Hello, Alice!")
    assert send(sid, "hello", key="k1").body == first.body
    for i in range(4):
        send(sid, f"m{i}")
    got = call(http_event("GET", f"/sessions/{sid}"))
    assert got.body["message_count"] == 5
    assert got.body["state"] == {"name": "Alice", "plan": "pro"}
    page = call(http_event("GET", f"/sessions/{sid}/messages", query={"limit": "4"}))
    older = call(
        http_event("GET", f"/sessions/{sid}/messages", query={"limit": "100", "cursor": page.body["next_cursor"]})
    )
    contents = [m["content"] for m in older.body["messages"] + page.body["messages"] if m["role"] == "user"]
    assert contents == ["hello", "m0", "m1", "m2", "m3"]
    assert call(http_event("GET", f"/sessions/{sid}", actor="bob")).status == 404
    assert call(http_event("DELETE", f"/sessions/{sid}", actor="bob")).status == 404
    assert call(http_event("DELETE", f"/sessions/{sid}")).status == 204
    assert call(http_event("GET", f"/sessions/{sid}")).status == 404


def test_expiry_on_dynamodb(moto_chat):
    send("exp", "one")
    moto_chat.advance(601)
    assert call(http_event("GET", "/sessions/exp")).status == 404
    fresh = send("exp", "two")
    assert fresh.body["message_count"] == 1
    assert len(call(http_event("GET", "/sessions/exp/messages")).body["messages"]) == 2
