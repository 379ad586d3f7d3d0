"""The sample ChatBot (docs/lex-guide.md), played with the event files."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from lex_bot.attributes import Booking, BotAttributes, Language
from lex_bot.intents import router

from chatstate.lex import LexRuntime
from chatstate.models import SessionRef
from chatstate.store.memory import InMemorySessionStore
from tests.lexkit import (
    EVENTS,
    assert_valid,
    dialog_action,
    fixed_now,
    lex_context,
    load_event,
    messages_text,
)
from tests.wiring import TEST_SETTINGS


@pytest.fixture
def store() -> InMemorySessionStore:
    return InMemorySessionStore()


@pytest.fixture
def bot(store) -> LexRuntime[BotAttributes]:
    return LexRuntime(router, store=store, now=fixed_now)


def attrs_of(response: dict[str, Any]) -> dict[str, str]:
    return response["sessionState"]["sessionAttributes"]


def test_greeting_first_visit_by_name(bot):
    response = assert_valid(bot.handle(load_event("lex_greeting")))
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert messages_text(response).startswith("Hello, Ana!")
    assert attrs_of(response)["visits"] == "1"


def test_greeting_counts_visits_from_the_durable_session_even_without_attributes(bot):
    bot.handle(load_event("lex_greeting"))
    event = load_event("lex_greeting")
    del event["sessionState"]["sessionAttributes"]
    response = assert_valid(bot.handle(event))
    assert messages_text(response) == "Hello, Ana! Welcome back, this is visit number 2."


@pytest.mark.parametrize(
    ("language", "word"), [("en", "Hello"), ("es", "Hola"), ("fr", "Bonjour"), ("de", "Hallo"), ("it", "Ciao")]
)
def test_greeting_is_localized(bot, language, word):
    event = load_event("lex_greeting")
    event["sessionState"]["sessionAttributes"]["language"] = json.dumps(language)
    assert messages_text(assert_valid(bot.handle(event))).startswith(f"{word}, Ana!")


def test_book_flight_dialog_valid_slots_delegate(bot):
    response = assert_valid(bot.handle(load_event("lex_book_flight_dialog")))
    assert dialog_action(response) == "Delegate"
    assert response["sessionState"]["intent"]["slots"]["ArrivalCity"]["value"]["interpretedValue"] == "Boston"


def test_book_flight_same_city_elicits_arrival(bot):
    response = assert_valid(bot.handle(load_event("lex_book_flight_same_city")))
    assert response["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "ArrivalCity"}
    assert response["sessionState"]["intent"]["slots"]["ArrivalCity"] is None
    assert "Seattle" in messages_text(response)


def test_book_flight_past_date_elicits_date(bot):
    response = assert_valid(bot.handle(load_event("lex_book_flight_past_date")))
    assert response["sessionState"]["dialogAction"]["slotToElicit"] == "DepartureDate"
    assert "past" in messages_text(response)


def test_book_flight_unparsable_date_elicits_date(bot):
    event = load_event("lex_book_flight_past_date")
    event["sessionState"]["intent"]["slots"]["DepartureDate"]["value"]["interpretedValue"] = "next blue moon"
    response = assert_valid(bot.handle(event))
    assert response["sessionState"]["dialogAction"]["slotToElicit"] == "DepartureDate"
    assert "didn't understand" in messages_text(response)


def test_book_flight_date_is_checked_against_the_injected_clock(store):
    event = load_event("lex_book_flight_past_date")  # 2024-03-01
    earlier = LexRuntime(router, store=store, now=lambda: fixed_now().replace(year=2023))
    assert dialog_action(assert_valid(earlier.handle(event))) == "Delegate"


def test_book_flight_fulfillment_stores_the_booking(bot, store):
    event = load_event("lex_book_flight_fulfillment")
    response = assert_valid(bot.handle(event))
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert messages_text(response) == "Your flight from Seattle to Boston on 2030-08-15 is booked."
    state = store.get(SessionRef.lex("CHATBOT01", event["sessionId"])).state
    assert state["last_booking"] == {
        "departure_city": "Seattle",
        "arrival_city": "Boston",
        "departure_date": "2030-08-15",
    }
    assert json.loads(attrs_of(response)["lastBooking"])["arrival_city"] == "Boston"


def test_update_preferences_dialog(bot):
    assert dialog_action(assert_valid(bot.handle(load_event("lex_update_preferences_dialog")))) == "Delegate"
    response = assert_valid(bot.handle(load_event("lex_update_preferences_unsupported")))
    assert response["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "Language"}
    assert "Spanish" in messages_text(response)


def test_update_preferences_fulfilled_is_used_by_later_greetings(bot):
    response = assert_valid(bot.handle(load_event("lex_update_preferences_fulfillment")))
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert attrs_of(response)["language"] == '"es"'
    greeting = load_event("lex_greeting")
    greeting["sessionState"]["sessionAttributes"] = {"name": "Ana"}  # a client that dropped the language
    assert messages_text(assert_valid(bot.handle(greeting))).startswith("Hola, Ana!")


def test_fallback_reprompts_and_keeps_state(bot):
    bot.handle(load_event("lex_book_flight_fulfillment"))
    event = load_event("lex_fallback")
    response = assert_valid(bot.handle(event))
    assert dialog_action(response) == "ElicitIntent"
    assert "Sorry" in messages_text(response)
    assert attrs_of(response)["channel"] == "web"
    assert json.loads(attrs_of(response)["lastBooking"])["departure_city"] == "Seattle"


def play_conversation(runtime: LexRuntime[BotAttributes]) -> list[dict[str, Any]]:
    """Play events/lex_conversation/turn_*.json, passing each response's attributes to the next turn as Lex does."""
    responses: list[dict[str, Any]] = []
    attributes: dict[str, str] | None = None
    for path in sorted((EVENTS / "lex_conversation").glob("turn_*.json")):
        event = json.loads(path.read_text())
        if attributes is not None:
            event["sessionState"]["sessionAttributes"] = attributes
        response = assert_valid(runtime.handle(event))
        attributes = response["sessionState"].get("sessionAttributes", attributes)
        responses.append(response)
    return responses


def test_multi_turn_conversation_keeps_typed_state(bot, store):
    responses = play_conversation(bot)
    assert [dialog_action(r) for r in responses] == ["Close", "Delegate", "Close", "Delegate", "Close", "Close"]
    assert messages_text(responses[-1]) == "Ciao, Ana! Welcome back, this is visit number 2."
    final = BotAttributes.decode(attrs_of(responses[-1]), None).attributes
    assert final.language is Language.IT
    assert final.last_booking == Booking(departure_city="Rome", arrival_city="Paris", departure_date=date(2031, 5, 2))
    assert final.recent_bookings == [final.last_booking]
    assert final.intent_counts == {"Greeting": 2, "UpdatePreferences": 1, "BookFlight": 1}
    durable = store.get(SessionRef.lex("CHATBOT01", "conversation-0001"))
    restored = BotAttributes.decode(None, durable.state).attributes
    assert restored.model_dump(exclude={"visits"}) == final.model_dump(exclude={"visits"})
    assert restored.visits == 2
    assert durable.message_count == 6


def test_conversation_survives_a_client_that_drops_attributes(store):
    runtime = LexRuntime(router, store=store, now=fixed_now)
    for path in sorted((EVENTS / "lex_conversation").glob("turn_*.json")):
        response = assert_valid(runtime.handle(json.loads(path.read_text())))
    assert messages_text(response) == "Ciao, Ana! Welcome back, this is visit number 2."


# -- lex_app (the Lambda handler) ----------------------------------------------------------------------
@pytest.fixture
def lex_app_with_memory_store(store, monkeypatch):
    import lex_app

    lex_app.configure(settings=TEST_SETTINGS, store=store)
    yield lex_app
    lex_app.configure()


def test_lambda_handler_answers_and_emits_metrics(lex_app_with_memory_store, capsys):
    response = lex_app_with_memory_store.lambda_handler(load_event("lex_greeting"), lex_context())
    assert_valid(response)
    assert messages_text(response).startswith("Hello, Ana!")
    out = capsys.readouterr().out
    assert '"LexTurns"' in out
    assert "hello" not in [line for line in out.splitlines() if "inputTranscript" in line]


def test_lambda_handler_invalid_event(lex_app_with_memory_store):
    response = lex_app_with_memory_store.lambda_handler({}, lex_context())
    assert dialog_action(assert_valid(response)) == "ElicitIntent"


def test_cold_import_of_lex_app_does_not_load_boto3_or_the_store():
    import subprocess
    import sys

    code = (
        "import sys, lex_app, chatstate.lex; "
        "print(sorted(m for m in ('boto3', 'botocore.client', 'chatstate.store.dynamodb') if m in sys.modules))"
    )
    root = EVENTS.parent
    env = {"PYTHONPATH": f"{root / 'layers' / 'chatstate'}:{root / 'functions' / 'lex_fulfillment'}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- responses Lex would refuse -----------------------------------------------------------------------
def greeting_with(name: str) -> dict[str, Any]:
    event = load_event("lex_greeting")
    event["sessionState"]["sessionAttributes"]["name"] = name
    return event


def test_an_overlong_name_is_not_stored_and_every_greeting_stays_valid(bot, store):
    long_name = "N" * 1_100
    first = assert_valid(bot.handle(greeting_with(long_name)))
    assert first["sessionState"]["intent"]["state"] == "Fulfilled"
    assert long_name not in messages_text(first)
    assert store.get(SessionRef.lex("CHATBOT01", "user-ana-0001")).state.get("name") is None
    later = load_event("lex_greeting")
    later["sessionState"]["sessionAttributes"] = attrs_of(first)
    again = assert_valid(bot.handle(later))
    assert again["sessionState"]["intent"]["state"] == "Fulfilled"
    assert "visit number 2" in messages_text(again)


def test_a_long_name_within_the_cap_greets_in_messages_lex_accepts(bot):
    name = "Maria " * 16  # 96 characters
    response = assert_valid(bot.handle(greeting_with(name.strip())))
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"


def test_overlong_city_slots_do_not_break_booking(bot, store):
    event = load_event("lex_book_flight_fulfillment")
    slot = event["sessionState"]["intent"]["slots"]["DepartureCity"]["value"]
    slot["originalValue"] = slot["interpretedValue"] = "C" * 1_000
    slot["resolvedValues"] = ["C" * 1_000]
    response = assert_valid(bot.handle(event))
    assert response["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    session = store.get(SessionRef.lex("CHATBOT01", event["sessionId"]))
    assert session is None or "C" * 1_000 not in json.dumps(session.state)


@pytest.mark.parametrize("source", ["", "SomethingNew", "fulfillmentcodehook"])
def test_an_unknown_invocation_source_runs_no_fulfillment(bot, store, source):
    event = load_event("lex_book_flight_fulfillment")
    event["invocationSource"] = source
    response = assert_valid(bot.handle(event))
    assert response["sessionState"]["dialogAction"]["type"] != "Close"  # the dialog hook: no booking confirmed
    session = store.get(SessionRef.lex("CHATBOT01", event["sessionId"]))
    assert session is None or not session.state.get("last_booking")
