"""The AgentCore-style direct invoke of AgentChatFunction, and the chat service/responder on their own."""

from __future__ import annotations

import pytest

from chatstate.chat import ChatService, EchoMemoryResponder, InvalidRequest, Unauthenticated
from chatstate.exceptions import SessionNotFound
from chatstate.models import SessionRef
from tests.unit.chat_support import load_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_direct_invoke_event_file(chat):
    event = load_event("chat_direct_invoke")
    result = chat.direct(event)
    assert set(result) == {"response", "session_id", "message_count"}
    assert result["session_id"] == event["session_id"]
    assert result["message_count"] == 1
    assert result["response"].startswith("Nice to meet you, Alice!")
    assert chat.direct(event) == result  # same request_id: answered again, not appended
    again = chat.direct({k: v for k, v in event.items() if k != "request_id"} | {"message": "and now?"})
    assert again["message_count"] == 2


def test_direct_invoke_and_http_are_disjoint_channels(chat):
    chat.direct({"message": "hi", "session_id": "shared", "actor_id": "alice"})
    assert chat.direct({"message": "again", "session_id": "shared", "actor_id": "alice"})["message_count"] == 2
    assert chat.request("GET", "/sessions/shared", actor="alice").status == 404  # same ids, other key space
    chat.send("shared", "over http")
    assert chat.request("GET", "/sessions/shared", actor="alice").body["message_count"] == 1


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"session_id": "s", "actor_id": "a"}, 400, "message"),
        ({"message": "hi", "actor_id": "a"}, 400, "session_id"),
        ({"message": "hi", "session_id": "s"}, 400, "actor_id"),
        ({"message": 1, "session_id": "s", "actor_id": "a"}, 400, "message"),
        ({"message": " ", "session_id": "s", "actor_id": "a"}, 400, "message"),
        ({"message": "hi", "session_id": "s", "actor_id": "a", "extra": True}, 400, "extra"),
        ({"message": "hi", "session_id": "bad id", "actor_id": "a"}, 400, "session_id"),
        ({"message": "hi", "session_id": "s", "actor_id": "a", "request_id": "has space"}, 400, "request_id"),
        ({"message": "x" * 4001, "session_id": "s", "actor_id": "a"}, 413, "message"),
        ({"message": "hi", "session_id": "s", "actor_id": "a\x00"}, 401, None),
        ([1, 2], 400, "payload"),
        ("hello", 400, "payload"),
    ],
)
def test_invalid_direct_payload_returns_the_error_envelope(chat, payload, status, field):
    result = chat.direct(payload)
    assert result["status"] == status
    assert set(result) == {"error", "status"}
    assert set(result["error"]) == {"code", "message"}
    if field:
        assert result["error"]["message"].startswith(field)


def test_direct_invoke_retryable_error_carries_retry_after(chat, monkeypatch):
    from chatstate.exceptions import StoreUnavailable

    def load(ref, last=10):
        raise StoreUnavailable("throttled", retry_after_seconds=4)

    monkeypatch.setattr(chat.store, "load", load)
    result = chat.direct({"message": "hi", "session_id": "s", "actor_id": "a"})
    assert result == {
        "error": {"code": "store_unavailable", "message": "the session store is busy; retry later"},
        "status": 503,
        "retry_after_seconds": 4,
    }


def test_direct_invoke_unexpected_errors_raise(chat, monkeypatch):
    def load(ref, last=10):
        raise RuntimeError("bug")

    monkeypatch.setattr(chat.store, "load", load)
    with pytest.raises(RuntimeError):
        chat.direct({"message": "hi", "session_id": "s", "actor_id": "a"})


# -- the service without HTTP -----------------------------------------------------------------------
def test_service_use_cases_without_http(chat):
    service: ChatService = chat.service
    session = service.create_session("carol", {"name": "Carol"})
    ref = service.ref("carol", session.session_id)
    turn = service.send_message(ref, "hi", request_id="r1")
    assert (turn.message_count, turn.replayed) == (1, False)
    assert turn.reply.startswith("Hello, Carol!")
    assert service.send_message(ref, "hi", request_id="r1").replayed
    assert service.get_session(ref).message_count == 1
    assert len(service.page_messages(ref, limit=10).messages) == 2
    service.delete_session(ref)
    with pytest.raises(SessionNotFound):
        service.get_session(ref)
    with pytest.raises(SessionNotFound):
        service.delete_session(ref)
    with pytest.raises(InvalidRequest):
        service.page_messages(ref, limit=0)
    with pytest.raises(Unauthenticated):
        service.ref("", "x")


def test_service_loads_only_the_configured_history(chat):
    seen = []

    class Recorder:
        def reply(self, session, history, message):
            seen.append(len(history))
            return "ok"

    service = ChatService(chat.store, Recorder(), history_turns=2)
    for i in range(5):
        service.send_message(service.ref("dave", "s"), f"m{i}")
    assert seen == [0, 2, 4, 4, 4]


def test_echo_responder_is_deterministic_and_quotes_briefly():
    responder = EchoMemoryResponder()
    long = "word " * 100
    first = responder.reply(None, [], long)
    assert first == responder.reply(None, [], long)
    assert first.startswith("I'm the built-in responder")
    assert "…" in first  # the message is quoted briefly
    assert len(first) < 300


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [("actor_id", "", 401), ("actor_id", "   ", 401), ("actor_id", " \u00a0 ", 401), ("session_id", "  ", 400)],
)
def test_blank_ids_are_refused_and_nothing_is_written(chat, field, value, status):
    """As HTTP refuses a blank JWT sub: a blank or whitespace id is no identity and no session."""
    payload = {"message": "hello", "session_id": "s-blank", "actor_id": "alice", field: value}
    assert chat.direct(payload)["status"] == status
    actor = payload["actor_id"] if payload["actor_id"] else "alice"
    assert chat.store.get(SessionRef.of(actor, "s-blank")) is None
