"""No log line, at any level, on any path, carries what a user typed.

Every event file and a set of hostile inputs, each carrying marker strings in the user-controlled
places (transcript, slot values, session/request attributes, message text, state values, cursors,
headers, malformed bodies, invalid ids), go through both functions on moto's DynamoDB with every
logger at DEBUG: the Powertools loggers' JSON lines (stdout) and every stdlib log record (message,
arguments and ``extra`` fields, botocore's included) must not contain a marker. Paths covered:
success, handler exceptions (pydantic ``ValidationError`` and plain ones), invalid events, store
faults, Bedrock errors.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import chat_app
import lex_app
import pytest
from botocore.stub import Stubber
from lex_bot.attributes import Booking, BotAttributes

from chatstate.chat.bedrock import BedrockConverseResponder
from chatstate.lex import IntentRouter, LexRuntime
from chatstate.store.memory import InMemorySessionStore
from devtools.template import create_session_table
from tests.lexkit import EVENTS, assert_valid, lex_context
from tests.unit.chat_support import call, chat_context, http_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

MARK = "zqxmark"
"""Every marker starts with this; none may appear in any log output."""
TABLE = "log-sessions"


def marked(where: str) -> str:
    return f"{MARK}-{where}-Ana Lopez 555-0100"


@pytest.fixture
def logs(fake_aws_env: None, moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Both functions on moto's DynamoDB with every logger at DEBUG; yields the captured log texts."""
    monkeypatch.setenv("SESSION_TABLE_NAME", TABLE)
    create_session_table(moto_dynamodb, TABLE)
    chat_app.configure()
    lex_app.configure()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(keep)
    stdout = io.StringIO()  # what the Powertools loggers print (their JSON lines)
    streams = []
    for powertools in (lex_app.logger, chat_app.logger):
        powertools.setLevel(logging.DEBUG)
        powertools.addHandler(keep)
        streams.append(powertools.registered_handler.setStream(stdout))
    texts: list[str] = []
    try:
        yield texts
    finally:
        root.removeHandler(keep)
        root.setLevel(old_level)
        for powertools, stream in zip((lex_app.logger, chat_app.logger), streams, strict=True):
            powertools.removeHandler(keep)
            powertools.registered_handler.setStream(stream)
        chat_app.configure()
        lex_app.configure()
    texts.append(stdout.getvalue())
    for record in records:
        if record.name.startswith("moto"):
            continue  # the fake AWS itself, not the functions
        texts.append(record.getMessage())
        texts.append(json.dumps(record.__dict__, default=str))
    assert '"level":' in texts[0], "the capture saw no Powertools output"
    assert len(texts) > 1, "the capture saw no log records"
    leaks = [t for t in texts if MARK in t.lower()]
    assert not leaks, leaks[0][:2000]


# -- Lex --------------------------------------------------------------------------------------------
def lex_events() -> list[Path]:
    return sorted([*EVENTS.glob("lex_*.json"), *(EVENTS / "lex_conversation").glob("turn_*.json")])


def with_markers(event: dict[str, Any], tag: str) -> dict[str, Any]:
    """``event`` with a marker in every place a user (or the client app) controls."""
    event = copy.deepcopy(event)
    event["inputTranscript"] = marked(f"{tag}-transcript")
    state = event.setdefault("sessionState", {})
    attributes = state.get("sessionAttributes") or {}
    attributes.update({"name": marked(f"{tag}-name"), "freeText": marked(f"{tag}-extra")})
    state["sessionAttributes"] = attributes
    event["requestAttributes"] = {"x-note": marked(f"{tag}-request")}
    for name, slot in (state.get("intent", {}).get("slots") or {}).items():
        if isinstance(slot, dict) and isinstance(slot.get("value"), dict):
            value = marked(f"{tag}-slot-{name}")
            slot["value"].update(originalValue=value, interpretedValue=value, resolvedValues=[value])
    for transcription in event.get("transcriptions") or []:
        transcription["transcription"] = marked(f"{tag}-transcription")
    return event


@pytest.mark.parametrize("path", lex_events(), ids=lambda p: p.stem)
def test_lex_event_files(logs: list[str], path: Path) -> None:
    event = json.loads(path.read_text())
    assert_valid(lex_app.lambda_handler(with_markers(event, path.stem), lex_context()))


def greeting() -> dict[str, Any]:
    return json.loads((EVENTS / "lex_greeting.json").read_text())


def hostile_lex_events() -> dict[str, Any]:
    base = greeting()
    cases: dict[str, Any] = {}
    bad_attr = copy.deepcopy(base)
    bad_attr["sessionState"]["sessionAttributes"] = {
        "lastBooking": json.dumps({"departure_city": marked("booking"), "arrival_city": 3}),
        "language": marked("language"),
        "visits": marked("visits"),
        "intentCounts": json.dumps({marked("count-key"): marked("count")}),
    }
    cases["rejected-and-tampered-attributes"] = bad_attr
    bad_slots = copy.deepcopy(base)
    bad_slots["sessionState"]["intent"]["slots"] = marked("slots")
    cases["invalid-event"] = bad_slots
    bad_session = copy.deepcopy(base)
    bad_session["sessionId"] = marked("session")
    cases["invalid-session-id"] = bad_session
    bad_source = copy.deepcopy(base)
    bad_source["invocationSource"] = marked("source")
    cases["unknown-invocation-source"] = bad_source
    bad_intent = copy.deepcopy(base)
    bad_intent["sessionState"]["intent"]["name"] = marked("intent")
    cases["unknown-intent"] = bad_intent
    huge = copy.deepcopy(base)
    huge["sessionState"]["sessionAttributes"] = {"name": marked("huge") * 2000}
    cases["oversized-attributes"] = huge
    cases["not-an-object"] = [marked("list")]
    return cases


@pytest.mark.parametrize("case", list(hostile_lex_events()))
def test_lex_hostile_inputs(logs: list[str], case: str) -> None:
    response = lex_app.lambda_handler(hostile_lex_events()[case], lex_context())
    assert_valid(response)


def test_lex_handler_exceptions_and_store_faults(logs: list[str]) -> None:
    """A handler raising pydantic's error (which quotes its input) or its own, and a failing store."""
    router = IntentRouter[BotAttributes]()

    @router.fulfillment("Greeting")
    def raises_validation(ctx: Any) -> Any:
        Booking.model_validate({"departure_city": ctx.request.event.input_transcript, "departure_date": MARK})

    @router.fulfillment("BookFlight")
    def raises_plain(ctx: Any) -> Any:
        raise ValueError(f"cannot book {ctx.slot('DepartureCity')}")

    class FailingStore(InMemorySessionStore):
        def append(self, *args: Any, **kwargs: Any) -> Any:
            from chatstate.exceptions import StoreUnavailable

            raise StoreUnavailable(f"throttled while writing {args[1][0].content}")

    runtime = LexRuntime(router, store=InMemorySessionStore(), logger=lex_app.logger)
    assert_valid(runtime.handle(with_markers(greeting(), "pydantic")))
    flight = json.loads((EVENTS / "lex_book_flight_fulfillment.json").read_text())
    assert_valid(runtime.handle(with_markers(flight, "plain")))
    store_fault = LexRuntime(lex_app.router, store=FailingStore(), logger=lex_app.logger)
    assert_valid(store_fault.handle(with_markers(greeting(), "store")))
    assert_valid(lex_app.lambda_handler(greeting(), lex_context()))  # and one success


# -- chat -------------------------------------------------------------------------------------------
def chat_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(p.stem for p in EVENTS.glob("chat_*.json")))
def test_chat_event_files(logs: list[str], name: str) -> None:
    event = chat_event(name)
    if "requestContext" not in event:
        event["message"] = marked("direct")
        assert "response" in chat_app.lambda_handler(event, chat_context())
        return
    if event.get("body"):
        body = event["body"]
        event["body"] = body.replace('"message": "', f'"message": "{marked("body")} ', 1) if "message" in body else body
        if name == "chat_malformed_body":
            event["body"] = body + marked("malformed")
    raw = chat_app.lambda_handler(event, chat_context())
    assert raw["statusCode"] < 500, raw


def test_chat_hostile_inputs(logs: list[str]) -> None:
    created = call(http_event("POST", "/sessions", body={"state": {"note": marked("state")}}))
    assert created.status == 201
    sid = created.body["session_id"]
    answered = call(
        http_event(
            "POST",
            f"/sessions/{sid}/messages",
            body={"message": marked("message")},
            headers={"Idempotency-Key": marked("key").replace(" ", "_")},
        )
    )
    assert answered.status == 200
    statuses = [
        call(http_event("POST", f"/sessions/{sid}/messages", body={"message": marked("long") * 300})).status,
        call(http_event("POST", f"/sessions/{sid}/messages", body={"message": 1, "extra": marked("x")})).status,
        call(http_event("POST", f"/sessions/{sid}/messages", raw_body='{"message": "' + marked("raw"))).status,
        call(
            http_event(
                "POST", f"/sessions/{sid}/messages", body={"message": "hi"}, headers={"Idempotency-Key": f"{MARK} x"}
            )
        ).status,
        call(http_event("GET", f"/sessions/{sid}/messages", query={"cursor": marked("cursor"), "limit": "5"})).status,
        call(http_event("GET", f"/sessions/{sid}/messages", query={"limit": marked("limit")})).status,
        call(http_event("POST", "/sessions", body={"state": marked("state-not-object")})).status,
        call(http_event("GET", "/sessions/" + marked("sid").replace(" ", "%20"))).status,
        call(http_event("GET", f"/{marked('route')}")).status,
        call(http_event("GET", "/sessions", query={"cursor": marked("list-cursor")})).status,
        call(http_event("PATCH", f"/sessions/{sid}", body={"title": marked("title") * 20})).status,
        call(http_event("GET", "/me/export", query={"cursor": marked("export-cursor")})).status,
        call(http_event("DELETE", "/me", query={"cursor": marked("erase-cursor")})).status,
    ]
    assert all(400 <= s < 500 for s in statuses), statuses
    renamed = call(http_event("PATCH", f"/sessions/{sid}", body={"title": marked("title")}))
    assert renamed.status == 200
    assert call(http_event("GET", "/sessions")).body["sessions"][0]["title"] == marked("title")
    assert marked("message") in json.dumps(call(http_event("GET", "/me/export")).body)
    assert call(http_event("DELETE", "/me")).body["complete"] is True
    direct = [
        {"message": marked("d1"), "session_id": marked("d-session"), "actor_id": "alice"},
        {"message": marked("d2"), "session_id": "s-1", "actor_id": marked("d-actor")},
        {"message": [marked("d3")], "session_id": "s-1", "actor_id": "alice"},
        {"message": marked("d4") * 400, "session_id": "s-1", "actor_id": "alice"},
    ]
    answers = [chat_app.lambda_handler(payload, chat_context()) for payload in direct]
    assert [a.get("status") for a in answers] == [400, None, 400, 413]  # an actor id may be any printable text


@pytest.mark.parametrize("failure", ["bedrock-validation", "bedrock-throttled", "responder-bug", "store-error"])
def test_chat_responder_and_store_errors(logs: list[str], failure: str, moto_dynamodb: Any) -> None:
    from chatstate.exceptions import StoreError
    from chatstate.store.dynamodb import DynamoDBSessionStore

    store: Any = DynamoDBSessionStore(TABLE, client=moto_dynamodb)
    if failure.startswith("bedrock"):
        client = boto3.client("bedrock-runtime", region_name="us-east-1")
        stub = Stubber(client)
        code = "ValidationException" if failure == "bedrock-validation" else "ThrottlingException"
        stub.add_client_error("converse", service_error_code=code, service_message=f"bad input: {marked('bedrock')}")
        stub.activate()
        responder: Any = BedrockConverseResponder("model-x", client=client)
    else:

        class Responder:
            def reply(self, session: Any, history: Any, message: str) -> str:
                if failure == "responder-bug":
                    raise RuntimeError(f"cannot answer {message}")
                raise StoreError(f"write failed for {message}")

        responder = Responder()
    chat_app.configure(store=store, responder=responder)
    result = call(http_event("POST", "/sessions/s-errors/messages", body={"message": marked("question")}))
    assert result.status >= 500
