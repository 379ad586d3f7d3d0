"""StrandsAgentFunction with its offline model on moto: the events in events/strands_*.json, errors, isolation."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strands_app
from strands.types.exceptions import ModelThrottledException

from chatstate.logsafe import quiet_wire_logs
from chatstate.store.dynamodb import DynamoDBTable
from chatstate.strands import DynamoDBSessionManager
from chatstate.strands.scripted import ScriptedModel, text
from devtools.template import create_session_table
from tests.unit.chat_support import chat_context

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

EVENTS = Path(__file__).resolve().parents[2] / "events"
TABLE = "strands-fn"


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def client(moto_dynamodb, monkeypatch) -> Iterator[Any]:
    create_session_table(moto_dynamodb, TABLE)
    monkeypatch.setenv("SESSION_TABLE_NAME", TABLE)
    monkeypatch.delenv("BEDROCK_MODEL_ID", raising=False)
    strands_app.configure(table=DynamoDBTable(TABLE, client=moto_dynamodb))
    yield moto_dynamodb
    strands_app.configure()


def handle(payload: dict[str, Any]) -> dict[str, Any]:
    return strands_app.lambda_handler(payload, chat_context())


def test_the_sample_events_hold_a_conversation_with_a_tool_and_state(client):
    hello = handle(event("strands_hello"))
    assert hello["session_id"] == "strands-demo-1"
    assert hello["message_count"] == 2
    found = handle(event("strands_find_flights"))
    assert "Seattle" in found["response"]
    assert found["message_count"] == 6  # prompt, tool use, tool result, answer
    booked = handle(event("strands_book_flight"))
    assert booked["response"] == "Booked CS123 on 2030-05-14."
    stored = DynamoDBSessionManager("strands-demo-1", table_name=TABLE, actor_id="ana", client=client)
    assert stored.read_agent("strands-demo-1", "default").state == {
        "bookings": [{"flight": "CS123", "date": "2030-05-14"}]
    }
    assert len(stored.list_messages("strands-demo-1", "default")) == booked["message_count"] == 10


def test_a_bad_payload_is_a_returned_400(client):
    answer = handle(event("strands_bad_payload"))
    assert answer["status"] == 400
    assert answer["error"]["code"] == "bad_request"
    assert "prompt" in answer["error"]["message"]
    assert "session_id" in answer["error"]["message"]


@pytest.mark.parametrize(
    "payload", [None, [], "hi", {"prompt": "hi"}, {"prompt": 1, "session_id": "s", "actor_id": "a"}]
)
def test_malformed_payloads_are_400s(client, payload):
    assert handle(payload)["status"] == 400


def test_a_too_long_prompt_is_a_413(client):
    answer = handle({"prompt": "x" * (strands_app.MAX_PROMPT_CHARS + 1), "session_id": "s", "actor_id": "a"})
    assert answer["status"] == 413


def test_actors_have_separate_sessions_of_the_same_id(client):
    handle({"prompt": "flights from Oslo to Rome", "session_id": "shared", "actor_id": "ana"})
    bob = handle({"prompt": "hello", "session_id": "shared", "actor_id": "bob"})
    assert bob["message_count"] == 2


def test_a_concurrent_invocation_is_a_returned_409_and_the_retry_succeeds(client, monkeypatch):
    handle({"prompt": "hello", "session_id": "s-1", "actor_id": "ana"})
    real_run = strands_app.run

    def run_with_a_concurrent_turn(payload):
        def concurrent(messages):
            other = {"prompt": "meanwhile", "session_id": "s-1", "actor_id": "ana"}
            strands_app.configure(table=DynamoDBTable(TABLE, client=client))
            real_run(strands_app.InvokePayload.model_validate(other))
            return text("late answer")

        strands_app.configure(model=ScriptedModel(concurrent), table=DynamoDBTable(TABLE, client=client))
        return real_run(payload)

    monkeypatch.setattr(strands_app, "run", run_with_a_concurrent_turn)
    answer = handle({"prompt": "mine", "session_id": "s-1", "actor_id": "ana"})
    assert answer["status"] == 409
    assert answer["error"]["code"] == "conflict"
    monkeypatch.setattr(strands_app, "run", real_run)
    strands_app.configure(table=DynamoDBTable(TABLE, client=client))
    assert handle({"prompt": "mine", "session_id": "s-1", "actor_id": "ana"})["message_count"] == 6


def test_a_throttled_model_is_a_returned_503(client):
    def throttled(messages):
        raise ModelThrottledException("slow down")

    strands_app.configure(model=ScriptedModel(throttled), table=DynamoDBTable(TABLE, client=client))
    answer = handle({"prompt": "hello", "session_id": "s-2", "actor_id": "ana"})
    assert answer["status"] == 503
    assert answer["retry_after_seconds"] >= 1


def test_logs_carry_ids_but_no_prompt_or_answer(client, caplog):
    caplog.set_level(logging.DEBUG)
    quiet_wire_logs()  # as the function's own DynamoDB client does (this one is injected)
    handle({"prompt": "flights from Lisbon to Madrid on 2030-01-02", "session_id": "s-3", "actor_id": "ana"})
    handle({"prompt": "Lisbon", "session_id": "s/3", "actor_id": "ana"})
    assert any(r.getMessage() == "invoke answered" for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert "Lisbon" not in text
        assert "Madrid" not in text


def test_the_runtime_builds_itself_from_the_environment(moto_dynamodb, monkeypatch):
    create_session_table(moto_dynamodb, TABLE)
    monkeypatch.setenv("SESSION_TABLE_NAME", TABLE)
    monkeypatch.delenv("BEDROCK_MODEL_ID", raising=False)
    strands_app.configure()
    try:
        assert handle({"prompt": "hello", "session_id": "s-9", "actor_id": "ana"})["message_count"] == 2
    finally:
        strands_app.configure()
