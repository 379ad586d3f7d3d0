"""Functional: lex_app.lambda_handler with the real DynamoDB store (moto ``mock_aws``, table from template.yaml)."""

from __future__ import annotations

import json
import socket
from collections import Counter

import lex_app
import pytest

from devtools.template import create_session_table
from tests.lexkit import EVENTS, assert_valid, dialog_action, lex_context, load_event, messages_text

TABLE = "lex-sessions"


@pytest.fixture
def aws_env(fake_aws_env, monkeypatch):
    monkeypatch.setenv("SESSION_TABLE_NAME", TABLE)
    monkeypatch.setenv("SESSION_TTL_SECONDS", "3600")
    lex_app.configure()
    yield
    lex_app.configure()


@pytest.fixture
def moto_table(aws_env, moto_dynamodb):
    create_session_table(moto_dynamodb, TABLE)


def invoke(event):
    return assert_valid(lex_app.lambda_handler(event, lex_context()))


def test_conversation_on_dynamodb_with_at_most_two_requests_per_turn(moto_table):
    calls: Counter[str] = Counter()
    per_turn: list[int] = []
    attributes = None
    for n, path in enumerate(sorted((EVENTS / "lex_conversation").glob("turn_*.json"))):
        event = json.loads(path.read_text())
        if attributes is not None:
            event["sessionState"]["sessionAttributes"] = attributes
        before = sum(calls.values())
        response = invoke(event)
        if n == 0:  # the store (and its client) exist after the first turn; count from the second on
            client = lex_app.dependencies().store.client
            client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
        else:
            per_turn.append(sum(calls.values()) - before)
        attributes = response["sessionState"]["sessionAttributes"]
    assert messages_text(response) == "Ciao, Ana! Welcome back, this is visit number 2."
    assert per_turn, calls
    assert all(1 <= n <= 2 for n in per_turn), (per_turn, calls)
    assert json.loads(attributes["lastBooking"])["arrival_city"] == "Paris"


def test_durable_state_survives_a_client_that_drops_attributes(moto_table):
    invoke(load_event("lex_update_preferences_fulfillment"))
    greeting = load_event("lex_greeting")
    del greeting["sessionState"]["sessionAttributes"]
    assert messages_text(invoke(greeting)).startswith("Hola, Ana!")


def test_unreachable_dynamodb_answers_validly_and_echoes_attributes(aws_env, monkeypatch):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
    event = load_event("lex_book_flight_fulfillment")
    event["sessionState"]["sessionAttributes"] = {"name": "Ana", "language": '"fr"', "clientKey": "x"}
    response = invoke(event)
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"]["state"] == "Failed"
    assert response["sessionState"]["sessionAttributes"] == {"name": "Ana", "language": '"fr"', "clientKey": "x"}
