"""The agent-chat HTTP API (docs/chat-api.md) via ``chat_app.lambda_handler``, in-memory store."""

from __future__ import annotations

import base64
import json

import chat_app
import pytest

from chatstate.chat.errors import ResponderFailed, ResponderUnavailable
from chatstate.chat.payloads import MAX_MESSAGE_CHARS
from chatstate.exceptions import ConflictError, DuplicateRequest, ItemTooLarge, StoreUnavailable
from chatstate.models import NewMessage, SessionRef
from chatstate.store import logic
from tests.unit.chat_support import (
    EVENT_ACTOR,
    EVENT_SESSION,
    call,
    http_event,
    load_event,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


# -- the success rows of the table ------------------------------------------------------------------
def test_create_session_returns_201_with_ids_and_times(chat):
    result = chat.request("POST", "/sessions", body={"state": {"name": "Alice", "tier": "gold"}})
    assert result.status == 201
    assert set(result.body) == {"session_id", "created_at", "expires_at"}
    assert result.headers["content-type"] == "application/json"
    got = chat.request("GET", f"/sessions/{result.body['session_id']}")
    assert got.status == 200
    assert got.body["state"] == {"name": "Alice", "tier": "gold"}
    assert got.body["created_at"] == result.body["created_at"]


def test_create_session_without_body_has_empty_state(chat):
    result = chat.request("POST", "/sessions")
    assert result.status == 201
    assert chat.request("GET", f"/sessions/{result.body['session_id']}").body["state"] == {}


def test_create_session_ids_are_unique(chat):
    assert len({chat.create() for _ in range(5)}) == 5


def test_send_message_creates_the_session_and_counts_user_messages(chat):
    first = chat.send("brand-new", "hello")
    assert first.status == 200
    assert set(first.body) == {"session_id", "reply", "message_count"}
    assert first.body["session_id"] == "brand-new"
    assert first.body["message_count"] == 1
    second = chat.send("brand-new", "again")
    assert second.body["message_count"] == 2
    assert "You have sent 3 messages" in chat.send("brand-new", "how many messages have I sent?").body["reply"]
    assert chat.request("GET", "/sessions/brand-new").body["message_count"] == 3


def test_builtin_responder_remembers_state_and_history(chat):
    sid = chat.create(state={"name": "Alice"})
    assert chat.send(sid, "hi").body["reply"].startswith("Hello, Alice! This is a new conversation.")
    assert chat.send(sid, "what's my name?").body["reply"] == "You're Alice."
    other = chat.create()
    assert chat.send(other, "what is my name?").body["reply"].startswith("You haven't told me your name yet")
    assert chat.send(other, "Hello, my name is Bob").body["reply"].startswith("Nice to meet you, Bob!")
    assert chat.send(other, "who am I?").body["reply"] == "You're Bob."
    assert chat.send(other, "what did I say?").body["reply"] == 'You said: "who am I?"'
    known = chat.send(other, "what do you remember?").body["reply"]
    assert known == "I know that your name is Bob and you have sent 5 messages here."


def test_the_builtin_responder_counts_as_the_api_does(chat):
    """message_count is the user's messages, this one included: the reply and the API say the same number."""
    sid = chat.create()
    for text in ("one", "two"):
        chat.send(sid, text)
    answered = chat.send(sid, "how many messages have I sent?")
    assert answered.body["message_count"] == 3
    assert "You have sent 3 messages in this conversation, this one included." in answered.body["reply"]
    assert chat.request("GET", f"/sessions/{sid}").body["message_count"] == 3
    page = chat.request("GET", f"/sessions/{sid}/messages", query={"limit": "100"}).body["messages"]
    assert sum(m["role"] == "user" for m in page) == 3


def test_get_session_shape(chat):
    sid = chat.create(state={"k": [1, 2]})
    chat.send(sid, "one")
    body = chat.request("GET", f"/sessions/{sid}").body
    assert set(body) == {"session_id", "created_at", "updated_at", "expires_at", "message_count", "state"}
    assert body["message_count"] == 1
    assert body["updated_at"] >= body["created_at"]
    assert body["expires_at"].endswith("Z")


def test_list_messages_most_recent_k_oldest_first(chat):
    sid = chat.create()
    for i in range(3):
        chat.send(sid, f"m{i}")
    page = chat.request("GET", f"/sessions/{sid}/messages", query={"limit": "3"})
    assert page.status == 200
    assert [(m["role"], m["content"][:2]) for m in page.body["messages"]] == [
        ("assistant", "I'"),
        ("user", "m2"),
        ("assistant", "I'"),
    ]
    assert set(page.body["messages"][0]) == {"role", "content", "created_at"}
    assert page.body["next_cursor"]


def test_list_messages_default_limit_and_empty_session(chat):
    sid = chat.create()
    page = chat.request("GET", f"/sessions/{sid}/messages")
    assert page.status == 200
    assert page.body == {"messages": [], "next_cursor": None}


def test_delete_returns_204_then_404(chat):
    sid = chat.create()
    chat.send(sid, "hi")
    deleted = chat.request("DELETE", f"/sessions/{sid}")
    assert deleted.status == 204
    assert deleted.raw["body"] == ""
    assert chat.request("GET", f"/sessions/{sid}").status == 404
    assert chat.request("GET", f"/sessions/{sid}/messages").status == 404
    assert chat.request("DELETE", f"/sessions/{sid}").status == 404
    assert chat.send(sid, "back").body["message_count"] == 1  # a send after delete starts afresh


# -- paging -----------------------------------------------------------------------------------------
def test_cursor_paging_has_no_gaps_or_duplicates(chat):
    sid = chat.create()
    for i in range(7):
        chat.send(sid, f"message {i}")
    pages, cursor = [], None
    while True:
        query = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
        result = chat.request("GET", f"/sessions/{sid}/messages", query=query)
        assert result.status == 200
        pages.append(result.body["messages"])
        cursor = result.body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [4, 4, 4, 2]
    for page in pages:  # each page oldest first
        assert [m["created_at"] for m in page] == sorted(m["created_at"] for m in page)
    history = [m for page in reversed(pages) for m in page]
    assert len(history) == 14
    assert [m["content"] for m in history if m["role"] == "user"] == [f"message {i}" for i in range(7)]
    assert [m["role"] for m in history] == ["user", "assistant"] * 7


def test_cursor_from_another_session_or_actor_is_400(chat):
    first = chat.create()
    for i in range(3):
        chat.send(first, f"m{i}")
    cursor = chat.request("GET", f"/sessions/{first}/messages", query={"limit": "2"}).body["next_cursor"]
    second = chat.create()
    chat.send(second, "x")
    result = chat.request("GET", f"/sessions/{second}/messages", query={"limit": "2", "cursor": cursor})
    assert result.status == 400
    assert result.error_code == "bad_request"
    assert "cursor" in result.error_message
    chat.send(first, "bob's own session with the same id", actor="bob")
    as_bob = chat.request("GET", f"/sessions/{first}/messages", actor="bob", query={"limit": "2", "cursor": cursor})
    assert as_bob.status == 400


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjogOX0", "%%%"])
def test_malformed_cursor_is_400(chat, cursor):
    sid = chat.create()
    chat.send(sid, "x")
    result = chat.request("GET", f"/sessions/{sid}/messages", query={"cursor": cursor})
    assert result.status == 400
    assert "cursor" in result.error_message


@pytest.mark.parametrize("limit", ["abc", "0", "101", "-1", "1.5", "99999"])
def test_bad_limit_is_400_naming_limit(chat, limit):
    sid = chat.create()
    result = chat.request("GET", f"/sessions/{sid}/messages", query={"limit": limit})
    assert result.status == 400
    assert result.error_message.startswith("limit")


# -- identity and isolation -------------------------------------------------------------------------
def _concrete(route_key: str) -> tuple[str, str, dict[str, str] | None]:
    method, path = route_key.split(" ", 1)
    body = {"message": "hi"} if path.endswith("/messages") and method == "POST" else None
    return method, path.replace("{session_id}", "s1"), body


ROUTES = sorted(_concrete(key) for key in chat_app.routes())


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_identity_is_401_on_every_route(chat, method, path, body):
    result = chat.request(method, path, actor=None, body=body)
    assert result.status == 401
    assert result.error_code == "unauthorized"


@pytest.mark.parametrize("actor", ["", "   ", "bad\x01sub"])
def test_invalid_identity_is_401(chat, actor):
    assert chat.request("GET", "/sessions/s1", actor=actor).status == 401


def test_another_actor_cannot_see_read_page_or_delete(chat):
    sid = chat.create(actor="alice", state={"secret": "a"})
    chat.send(sid, "alice's words", actor="alice")
    for method, path in [
        ("GET", f"/sessions/{sid}"),
        ("GET", f"/sessions/{sid}/messages"),
        ("DELETE", f"/sessions/{sid}"),
    ]:
        result = chat.request(method, path, actor="bob")
        assert result.status == 404, (method, path)
        assert result.body == {"error": {"code": "not_found", "message": "the session was not found"}}
    # bob sending to the same id gets a session of his own; alice's is untouched
    bob = chat.send(sid, "hi", actor="bob")
    assert bob.body["message_count"] == 1
    assert "alice" not in bob.body["reply"]
    alice = chat.request("GET", f"/sessions/{sid}", actor="alice").body
    assert alice["message_count"] == 1
    assert alice["state"] == {"secret": "a"}


def test_expired_session_is_404_and_a_send_recreates_it(chat):
    sid = chat.create(state={"name": "Alice"})
    chat.send(sid, "one")
    chat.clock.advance(3_601)
    assert chat.request("GET", f"/sessions/{sid}").status == 404
    assert chat.request("GET", f"/sessions/{sid}/messages").status == 404
    fresh = chat.send(sid, "hello again")
    assert fresh.status == 200
    assert fresh.body["message_count"] == 1
    assert fresh.body["reply"].startswith("Hello! This is a new conversation.")  # the expired state is gone
    body = chat.request("GET", f"/sessions/{sid}").body
    assert body["state"] == {}
    assert len(chat.request("GET", f"/sessions/{sid}/messages").body["messages"]) == 2


def test_every_write_refreshes_expiry(chat):
    sid = chat.create()
    for _ in range(3):
        chat.clock.advance(3_000)
        assert chat.send(sid, "still here").status == 200
    assert chat.request("GET", f"/sessions/{sid}").body["message_count"] == 3


# -- idempotency ------------------------------------------------------------------------------------
def test_idempotency_key_retry_returns_first_answer_without_appending(chat):
    sid = chat.create()
    first = chat.send(sid, "book it", key="req-1")
    retry = chat.send(sid, "book it", key="req-1")
    assert retry.status == 200
    assert retry.body == first.body
    assert chat.request("GET", f"/sessions/{sid}").body["message_count"] == 1
    assert len(chat.request("GET", f"/sessions/{sid}/messages").body["messages"]) == 2
    other = chat.send(sid, "book it", key="req-2")
    assert other.body["message_count"] == 2


def test_idempotent_retry_does_not_call_the_responder(chat):
    calls = []

    class Counting:
        def reply(self, session, history, message):
            calls.append(message)
            return f"reply {len(calls)}"

    chat.use(Counting())
    first = chat.send("s1", "x", key="k")
    assert chat.send("s1", "x", key="k").body == first.body
    assert calls == ["x"]


def test_concurrent_duplicate_is_answered_with_the_winners_reply(chat):
    ref = SessionRef.of("alice", "race")
    chat.send("race", "warm up")

    class RacingResponder:
        def reply(self, session, history, message):
            # a concurrent retry of the same request wins the race while we are "thinking"
            chat.store.append(
                ref,
                [NewMessage(role="user", content=message), NewMessage(role="assistant", content="winner's reply")],
                request_id="dup",
            )
            return "loser's reply"

    chat.use(RacingResponder())
    result = chat.send("race", "go", key="dup")
    assert result.status == 200
    assert result.body["reply"] == "winner's reply"
    assert result.body["message_count"] == 2
    assert len(chat.request("GET", "/sessions/race/messages").body["messages"]) == 4


@pytest.mark.parametrize("key", ["has space", "x" * 129, "é"])
def test_bad_idempotency_key_is_400(chat, key):
    result = chat.send("s1", "hi", key=key)
    assert result.status == 400
    assert result.error_message.startswith("Idempotency-Key")


# -- request validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": 5}, "message"),
        ({"message": None}, "message"),
        ({"message": ["a"]}, "message"),
        ({"message": ""}, "message"),
        ({"message": "  \n\t "}, "message"),
        ({"message": "hi", "extra": 1}, "extra"),
        ([], "body"),
        ("just a string", "body"),
    ],
)
def test_bad_message_body_is_400_naming_the_field(chat, body, field):
    result = chat.request("POST", "/sessions/s1/messages", body=body)
    assert result.status == 400
    assert result.error_code == "bad_request"
    assert result.error_message.startswith(field)
    assert chat.request("GET", "/sessions/s1").status == 404  # nothing was written


@pytest.mark.parametrize("raw", ['{"message": "hi",', "not json", "{'message': 'hi'}", ""])
def test_malformed_or_missing_body_is_400(chat, raw):
    result = chat.request("POST", "/sessions/s1/messages", raw_body=raw)
    assert result.status == 400
    assert result.error_message.startswith("body")


def test_base64_body_is_decoded(chat):
    result = chat.request("POST", "/sessions/s1/messages", body={"message": "héllo"}, base64_body=True)
    assert result.status == 200
    assert '"héllo"' in result.body["reply"]


def test_invalid_base64_body_is_400(chat):
    event = http_event("POST", "/sessions/s1/messages", raw_body="{}")
    event["isBase64Encoded"] = True
    event["body"] = "!!!not base64!!!"
    result = call(event)
    assert result.status == 400
    assert result.error_message.startswith("body")


def test_message_size_limit(chat):
    assert chat.send("s1", "x" * MAX_MESSAGE_CHARS).status == 200
    too_big = chat.send("s1", "x" * (MAX_MESSAGE_CHARS + 1))
    assert too_big.status == 413
    assert too_big.error_code == "payload_too_large"
    assert too_big.error_message.startswith("message")
    assert chat.request("GET", "/sessions/s1").body["message_count"] == 1


def test_huge_body_is_413(chat):
    result = chat.request("POST", "/sessions", raw_body=json.dumps({"state": {"k": "v" * 70_000}}))
    assert result.status == 413


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"state": "nope"}, 400, "state"),
        ({"state": {"k": "v" * 20_000}}, 413, "state"),
        ({"state": {f"k{i}": i for i in range(101)}}, 400, "state"),
        ({"session_id": "mine"}, 400, "session_id"),
        ([1], 400, "body"),
    ],
)
def test_create_session_body_validation(chat, body, status, field):
    result = chat.request("POST", "/sessions", body=body)
    assert result.status == status
    assert result.error_message.startswith(field)


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_malformed_session_id_in_path_is_400(chat, method):
    suffix = "/messages" if method == "POST" else ""
    result = chat.request(method, f"/sessions/bad$id{suffix}", body={"message": "x"} if method == "POST" else None)
    assert result.status == 400
    assert result.error_message.startswith("session_id")
    too_long = chat.request("GET", "/sessions/" + "a" * 129)
    assert too_long.status == 400


# -- routing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/nope", "/sessions/s1/messages/extra", "/sessions/s1/state"])
def test_unknown_route_is_json_404(chat, path):
    result = chat.request("GET", path)
    assert result.status == 404
    assert result.body == {"error": {"code": "not_found", "message": "no such route"}}


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/sessions"), ("PUT", "/sessions/s1"), ("PATCH", "/sessions/s1/messages")]
)
def test_a_method_the_api_does_not_declare_is_json_404(chat, method, path):
    """API Gateway forwards only declared routes; the function answers any other request as an unknown route."""
    result = chat.request(method, path)
    assert result.status == 404
    assert result.body == {"error": {"code": "not_found", "message": "no such route"}}


# -- store and responder failures -------------------------------------------------------------------
def _failing_append(chat, monkeypatch, exc):
    def append(*args, **kwargs):
        raise exc

    monkeypatch.setattr(chat.store, "append", append)


@pytest.mark.parametrize(
    ("exc", "status", "code", "retry_after"),
    [
        (ConflictError("lost every retry"), 409, "conflict", None),
        (StoreUnavailable("throttled", retry_after_seconds=3), 503, "store_unavailable", "3"),
        (ItemTooLarge("too big", size=500_000, limit=400_000), 413, "payload_too_large", None),
        (RuntimeError("boom"), 500, "internal_error", None),
    ],
)
def test_store_errors_map_to_json_statuses(chat, monkeypatch, exc, status, code, retry_after):
    _failing_append(chat, monkeypatch, exc)
    result = chat.send("s1", "hi")
    assert result.status == status
    assert result.error_code == code
    assert result.headers.get("retry-after") == retry_after
    assert "boom" not in result.error_message  # internals are not leaked


def test_store_unavailable_on_read_is_503(chat, monkeypatch):
    def get(ref):
        raise StoreUnavailable("throttled")

    monkeypatch.setattr(chat.store, "get", get)
    result = chat.request("GET", "/sessions/s1")
    assert result.status == 503
    assert result.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    ("exc", "status", "code", "retry_after"),
    [
        (ResponderUnavailable("throttled", retry_after_seconds=2), 503, "responder_unavailable", "2"),
        (ResponderFailed("validation"), 502, "responder_failed", None),
    ],
)
def test_responder_errors_map_to_502_and_503_and_store_nothing(chat, exc, status, code, retry_after):
    class Broken:
        def reply(self, session, history, message):
            raise exc

    chat.use(Broken())
    result = chat.send("s1", "hi")
    assert result.status == status
    assert result.error_code == code
    assert result.headers.get("retry-after") == retry_after
    assert chat.request("GET", "/sessions/s1").status == 404


def test_duplicate_request_type_is_not_mapped_by_message(chat, monkeypatch):
    # DuplicateRequest is handled by the service, never surfaced as an HTTP error
    record = None

    def append(*args, **kwargs):
        raise DuplicateRequest("k", record)

    chat.send("s1", "first", key="k")
    record = chat.store.find_request(SessionRef.of("alice", "s1"), "k")
    monkeypatch.setattr(chat.store, "append", append)
    monkeypatch.setattr(chat.store, "load", lambda ref, last=10: None)
    result = chat.send("s1", "first", key="k")
    assert result.status == 200
    assert result.body["message_count"] == 1


# -- the events/ files ------------------------------------------------------------------------------
def test_event_files_play_through_every_route(chat):
    created = call(load_event("chat_create_session"))
    assert created.status == 201
    sent = call(load_event("chat_send_message"))
    assert sent.status == 200
    assert sent.body["session_id"] == EVENT_SESSION
    assert call(load_event("chat_send_message")).body == sent.body  # same Idempotency-Key
    got = call(load_event("chat_get_session"))
    assert got.status == 200
    assert got.body["message_count"] == 1
    listed = call(load_event("chat_list_messages"))
    assert listed.status == 200
    assert [m["role"] for m in listed.body["messages"]] == ["user", "assistant"]
    assert call(load_event("chat_no_identity")).status == 401
    malformed = call(load_event("chat_malformed_body"))
    assert malformed.status == 400
    assert malformed.error_message.startswith("body")
    assert call(load_event("chat_delete_session")).status == 204
    assert call(load_event("chat_get_session")).status == 404


def test_event_files_are_payload_v2_with_claims():
    for name in ["chat_create_session", "chat_send_message", "chat_get_session", "chat_list_messages"]:
        event = load_event(name)
        assert event["version"] == "2.0"
        assert event["routeKey"] == event["requestContext"]["routeKey"]
        assert event["requestContext"]["http"]["method"] == event["routeKey"].split()[0]
        assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == EVENT_ACTOR
    assert "authorizer" not in load_event("chat_no_identity")["requestContext"]


def test_logs_carry_the_session_id_but_never_message_text(chat, capsys, caplog):
    secret = "my card number is 4111-1111"
    chat.send("log-me", secret)
    assert chat_app.logger.get_correlation_id() == "log-me"
    chat.request("GET", "/sessions/log-me/messages")
    out = capsys.readouterr()
    assert secret not in out.out + out.err + caplog.text
    assert all(secret not in str(record.__dict__) for record in caplog.records)


def test_base64_event_round_trip(chat):
    event = load_event("chat_send_message")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert call(event).status == 200


# -- edges --------------------------------------------------------------------------------------------
def with_path_parameter(event: dict, session_id: str) -> dict:
    """As API Gateway sends it: ``rawPath`` percent-encoded, ``pathParameters`` decoded."""
    event["pathParameters"] = {"session_id": session_id}
    return event


def test_a_percent_encoded_session_id_addresses_the_decoded_session(chat):
    encoded = http_event("POST", "/sessions/s%3A1/messages", body={"message": "hello"})
    first = call(with_path_parameter(encoded, "s:1"))
    assert first.status == 200, first.body
    assert first.body["session_id"] == "s:1"
    plain = call(with_path_parameter(http_event("GET", "/sessions/s:1"), "s:1"))
    assert plain.status == 200
    assert plain.body["message_count"] == 1


def test_an_encoded_slash_is_refused_like_any_invalid_id(chat):
    result = call(with_path_parameter(http_event("GET", "/sessions/a%2Fb"), "a/b"))
    assert result.status == 400
    assert result.body["error"]["message"].startswith("session_id:")


@pytest.mark.parametrize(
    "cursor",
    [
        '{"v":2,"i":Infinity,"t":5,"x":0,"h":"0"}',
        '{"v":2,"i":1,"t":-Infinity,"x":0,"h":"0"}',
        '{"v":2,"i":1,"t":NaN,"x":0,"h":"0"}',
        '{"v":2,"i":1e400,"t":5,"x":0,"h":"0"}',
        '{"v":2,"i":1,"t":1e300,"x":0,"h":"0"}',
        '{"v":2,"i":1,"t":true,"x":0,"h":"0"}',
        '{"v":2,"i":1,"t":5,"x":Infinity,"h":"0"}',
    ],
)
def test_a_forged_cursor_with_non_integers_is_a_400(chat, cursor):
    session_id = chat.create()
    chat.send(session_id, "hello")
    forged = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
    result = chat.request("GET", f"/sessions/{session_id}/messages", query={"cursor": forged})
    assert result.status == 400, result.body


@pytest.mark.parametrize(
    ("incarnation", "turn", "index"),
    [(None, 10**30, 0), (10**30, 3, 0), (None, 10**400, 0), (-1, 3, 0), (None, 3, 10**30), (None, 3, -1)],
)
def test_a_forged_cursor_with_huge_numbers_is_a_400(chat, incarnation, turn, index):
    """Bound to the session like a real cursor (the binding is not a secret), but out of range."""
    session_id = chat.create()
    chat.send(session_id, "hello")
    ref = SessionRef.of("alice", session_id)
    current = chat.store.get(ref).incarnation
    forged = logic.encode_cursor(ref, current if incarnation is None else incarnation, turn, index)
    result = chat.request("GET", f"/sessions/{session_id}/messages", query={"cursor": forged})
    assert result.status == 400, result.body
