"""GET /sessions, PATCH /sessions/{id}, GET /me/export and DELETE /me through the chat function (in-memory store)."""

from __future__ import annotations

from collections.abc import Iterator

import chat_app
import pytest

from chatstate.models import NewMessage, SessionRef
from chatstate.profile import InMemoryProfileStore
from tests.unit.chat_support import ChatHarness, call, http_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def chat() -> Iterator[ChatHarness]:
    harness = ChatHarness()
    harness.profiles = InMemoryProfileStore(now=harness.clock)
    harness.use(harness.responder, profiles=harness.profiles)
    yield harness
    chat_app.configure()


def listed(chat: ChatHarness, actor: str = "alice", **query: str) -> dict:
    result = chat.request("GET", "/sessions", actor=actor, query=query or None)
    assert result.status == 200, result.body
    return result.body


def test_the_list_is_newest_activity_first_with_titles_and_the_documented_fields(chat):
    first = chat.create()
    chat.send(first, "Where is my luggage? It did not arrive in Lisbon")
    chat.clock.advance(700)
    second = chat.create()
    chat.send(second, "Book a table")
    body = listed(chat)
    assert [s["session_id"] for s in body["sessions"]] == [second, first]
    assert body["next_cursor"] is None
    entry = body["sessions"][1]
    assert set(entry) == {"session_id", "title", "created_at", "updated_at", "expires_at", "message_count"}
    assert entry["title"] == "Where is my luggage? It did not arrive in Lisbon"
    assert entry["message_count"] == 1
    chat.clock.advance(700)
    chat.send(first, "any news?")  # a new message moves it to the top
    assert [s["session_id"] for s in listed(chat)["sessions"]] == [first, second]


def test_the_list_pages_with_a_cursor_and_validates_limit_and_cursor(chat):
    created = []
    for _ in range(5):
        created.append(chat.create())
        chat.clock.advance(1)
    page = listed(chat, limit="2")
    seen = [s["session_id"] for s in page["sessions"]]
    while page["next_cursor"]:
        page = listed(chat, limit="2", cursor=page["next_cursor"])
        seen += [s["session_id"] for s in page["sessions"]]
    assert seen == list(reversed(created))
    assert len(listed(chat)["sessions"]) == 5  # default limit 20
    for bad in ("0", "101", "x", "-1", "1.5"):
        result = chat.request("GET", "/sessions", query={"limit": bad})
        assert result.status == 400
        assert result.error_message.startswith("limit")
    assert chat.request("GET", "/sessions", query={"cursor": "garbage"}).status == 400
    other = chat.request("GET", "/sessions", actor="bob", query={"cursor": listed(chat, limit="1")["next_cursor"]})
    assert other.status == 400


def test_another_actor_sees_none_of_them_and_cannot_rename_them(chat):
    sid = chat.create(actor="alice")
    chat.send(sid, "alice's words")
    assert listed(chat, actor="bob") == {"sessions": [], "next_cursor": None}
    result = chat.request("PATCH", f"/sessions/{sid}", actor="bob", body={"title": "mine"})
    assert result.status == 404
    assert result.error_code == "not_found"
    assert listed(chat)["sessions"][0]["title"] == "alice's words"


def test_rename_answers_the_session_as_listed_and_validates_the_title(chat):
    sid = chat.create()
    result = chat.request("PATCH", f"/sessions/{sid}", body={"title": "Lisbon trip"})
    assert result.status == 200
    assert result.body["title"] == "Lisbon trip"
    assert result.body["session_id"] == sid
    assert listed(chat)["sessions"][0] == result.body
    for body in ({"title": "x" * 201}, {"title": ""}, {"title": 5}, {"name": "x"}, {}):
        bad = chat.request("PATCH", f"/sessions/{sid}", body=body)
        assert bad.status == 400, body
    assert chat.request("PATCH", f"/sessions/{sid}", body={"title": "y" * 200}).status == 200
    assert chat.request("PATCH", "/sessions/absent", body={"title": "x"}).status == 404


def test_expired_and_deleted_sessions_leave_the_list(chat):
    kept, deleted = chat.create(), chat.create()
    assert chat.request("DELETE", f"/sessions/{deleted}").status == 204
    assert [s["session_id"] for s in listed(chat)["sessions"]] == [kept]
    chat.clock.advance(3_601)
    assert listed(chat)["sessions"] == []


def test_export_holds_profile_sessions_messages_state_and_lex_turns(chat):
    sid = chat.create(state={"plan": "pro"})
    chat.send(sid, "hello there")
    chat.profiles.merge("alice", {"name": "Alice"})
    kiosk = SessionRef.lex("BOT1", "kiosk")
    chat.store.append(kiosk, [NewMessage(role="user", content="alice at lex")], author="alice")
    chat.store.link("alice", kiosk, ttl_seconds=3_600)
    chat.store.append(kiosk, [NewMessage(role="user", content="someone else")], author="bob")
    body = chat.request("GET", "/me/export").body
    assert body["profile"] == {"name": "Alice"}
    (session,) = body["sessions"]
    assert session["session_id"] == sid
    assert session["state"] == {"plan": "pro"}
    assert [m["content"] for m in session["messages"]] == ["hello there", session["messages"][1]["content"]]
    assert [m["content"] for t in body["lex_turns"][0]["turns"] for m in t["messages"]] == ["alice at lex"]
    assert body["next_cursor"] is None
    assert "someone else" not in str(body)
    assert chat.request("GET", "/me/export", query={"cursor": "nope"}).status == 400


def test_erase_me_answers_a_receipt_is_idempotent_and_leaves_nothing(chat):
    for text in ("one", "two"):
        chat.send(chat.create(), text, key=f"key-{text}")
    chat.profiles.merge("alice", {"name": "Alice"})
    bob = chat.create(actor="bob")
    result = chat.request("DELETE", "/me")
    assert result.status == 200
    assert result.body["complete"] is True
    assert result.body["next_cursor"] is None
    assert result.body["erased"] == {
        "sessions": 2,
        "turns": 2,
        "idempotency_records": 2,
        "lex_turns": 0,
        "lex_links": 0,
        "profile": 1,
    }
    assert listed(chat)["sessions"] == []
    assert chat.request("GET", "/profile").body == {"profile": {}}
    assert chat.request("GET", "/me/export").body == {
        "profile": {},
        "sessions": [],
        "lex_turns": [],
        "next_cursor": None,
    }
    again = chat.request("DELETE", "/me")
    assert again.status == 200
    assert set(again.body["erased"].values()) == {0}
    assert chat.request("GET", f"/sessions/{bob}", actor="bob").status == 200


@pytest.mark.parametrize(("method", "path"), [("GET", "/sessions"), ("GET", "/me/export"), ("DELETE", "/me")])
def test_no_identity_is_401(chat, method, path):
    result = call(http_event(method, path, actor=None))
    assert result.status == 401
