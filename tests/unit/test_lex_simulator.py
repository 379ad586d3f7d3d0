"""The sample bot's whole conversations through the local Lex V2 simulator (bot from template.yaml)."""

from __future__ import annotations

import io
import json
import os
from datetime import date, timedelta
from typing import Any

import pytest
from lex_bot.intents import REPROMPT, router

from chatstate.chat.responders import EchoMemoryResponder
from chatstate.lex import LexRuntime
from chatstate.models import SessionRef
from chatstate.store.memory import InMemorySessionStore
from devtools.lex_console import HELP, LexConsole, describe, local_console, repl
from devtools.lexsim.definition import load_bot
from devtools.lexsim.engine import GAVE_UP, LexSimulator
from devtools.lexsim.matcher import classify
from devtools.lexsim.values import parse_date, resolve
from tests.lexkit import FIXED_NOW, assert_valid, fixed_now

TODAY = FIXED_NOW.date()  # a Wednesday
BOT = load_bot()


def lexkit_problems(response: Any) -> list[str]:
    """The project's Lex response checks, as a validator for the simulator."""
    try:
        assert_valid(response)
    except AssertionError as exc:
        return [str(exc)]
    return []


class Recorder:
    """The function in-process (the sample bot's runtime, in-memory store), keeping every event and response."""

    def __init__(self, runtime: LexRuntime[Any]) -> None:
        self.runtime = runtime
        self.calls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self.runtime.handle(event)
        self.calls.append((event, response))
        return response

    def events(self, source: str) -> list[dict[str, Any]]:
        return [event for event, _ in self.calls if event["invocationSource"] == source]


@pytest.fixture
def function() -> Recorder:
    store = InMemorySessionStore()
    return Recorder(LexRuntime(router, store=store, now=fixed_now, responder=EchoMemoryResponder()))


@pytest.fixture
def sim(function) -> LexSimulator:
    simulator = LexSimulator(BOT, function, validate=lexkit_problems, today=lambda: TODAY)
    simulator.set_attributes("s1", {"name": "Ana"})
    return simulator


def play(sim: LexSimulator, *lines: str, session: str = "s1") -> list[Any]:
    turns = [sim.turn(session, line) for line in lines]
    for turn in turns:
        assert turn.problems == [], turn.problems
    return turns


# -- the bot definition ---------------------------------------------------------------------------------
def test_the_bot_comes_from_the_template():
    assert [i.name for i in BOT.intents] == ["Greeting", "BookFlight", "UpdatePreferences", "FallbackIntent"]
    book = BOT.intent("BookFlight")
    assert [s.name for s in book.slots] == ["DepartureCity", "ArrivalCity", "DepartureDate"]  # by priority
    assert book.slot("ArrivalCity").prompt == "Where are you flying to from {DepartureCity}?"
    assert (book.dialog_hook, book.fulfillment_hook) == (True, True)
    fallback = BOT.fallback
    assert fallback is not None
    assert (fallback.name, fallback.dialog_hook, fallback.fulfillment_hook) == ("FallbackIntent", False, True)
    language = BOT.slot_types["LanguageType"]
    assert language.strategy == "ORIGINAL_VALUE"
    assert ("es", ("Spanish", "Espanol")) in [(v.value, v.synonyms) for v in language.values]
    assert BOT.nlu_threshold == pytest.approx(0.4)


# -- whole conversations -------------------------------------------------------------------------------
def test_greeting_then_welcome_back(sim, function):
    first, second = play(sim, "hello", "Good morning!")
    assert first.text.startswith("Hello, Ana! Nice to meet you.")
    assert first.dialog_action == {"type": "Close"}
    assert first.intent["state"] == "Fulfilled"
    assert second.text == "Hello, Ana! Welcome back, this is visit number 2."
    assert second.session_attributes["visits"] == "2"
    assert [e["invocationSource"] for e, _ in function.calls] == ["DialogCodeHook", "FulfillmentCodeHook"] * 2


def test_booking_with_validation_errors(sim):
    turns = play(
        sim, "I want to book a flight", "Seattle", "to Seattle", "Boston", "yesterday", "someday", "next friday"
    )
    start, departure, same_city, arrival, past, unknown, booked = turns
    assert start.dialog_action == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    assert start.text == "Which city are you leaving from?"
    assert departure.text == "Where are you flying to from Seattle?"
    assert same_city.dialog_action == {"type": "ElicitSlot", "slotToElicit": "ArrivalCity"}
    assert same_city.text == "You are already in Seattle. Where would you like to fly to?"
    assert arrival.text == "On which date do you want to fly to Boston?"
    assert past.text == "That date is in the past. What day would you like to leave?"
    assert unknown.text == "On which date do you want to fly to Boston?"  # not a date: Lex re-prompts itself
    assert booked.dialog_action == {"type": "Close"}
    assert booked.slots == {"DepartureCity": "Seattle", "ArrivalCity": "Boston", "DepartureDate": "2026-07-03"}
    assert booked.text == "Your flight from Seattle to Boston on 2026-07-03 is booked."
    assert json.loads(booked.session_attributes["lastBooking"])["arrival_city"] == "Boston"


def test_booking_in_one_utterance_goes_straight_to_fulfilment(sim, function):
    (turn,) = play(sim, "fly from Lisbon to Rome on August 15th 2030")
    assert turn.text == "Your flight from Lisbon to Rome on 2030-08-15 is booked."
    dialog = function.events("DialogCodeHook")[0]
    assert "proposedNextState" not in dialog  # nothing left to elicit
    assert dialog["interpretations"][0]["nluConfidence"] == 1.0


def test_preference_change_is_used_by_the_next_greeting(sim):
    bad, chosen, greeting = play(sim, "set my language to klingon", "French", "hi")
    assert bad.dialog_action == {"type": "ElicitSlot", "slotToElicit": "Language"}
    assert bad.text.startswith("Sorry, I can't speak that language yet.")
    assert chosen.text == "Done. I'll speak French with you from now on."
    assert chosen.slots == {"Language": "French"}
    assert greeting.text.startswith("Bonjour, Ana!")


def test_fallback_goes_to_the_agent_with_the_session(sim, function):
    play(sim, "book a flight from Seattle to Boston", "tomorrow")
    (turn,) = play(sim, "what is the meaning of life")
    assert turn.dialog_action == {"type": "ElicitIntent"}
    assert turn.intent is None
    assert 'can\'t answer "what is the meaning of life" myself, Ana.' in turn.text
    assert "Your last booking: Seattle → Boston on 2026-07-02." in turn.text
    assert REPROMPT not in turn.text
    event = function.calls[-1][0]
    assert event["invocationSource"] == "FulfillmentCodeHook"
    assert event["sessionState"]["intent"]["name"] == "FallbackIntent"
    assert "nluConfidence" not in event["interpretations"][0]


def test_session_attributes_are_kept_between_turns_as_lex_keeps_them(sim, function):
    sim.set_attributes("s1", {"channel": "web"})
    play(sim, "hello", "speak German")
    last_event = function.calls[-1][0]
    assert last_event["sessionState"]["sessionAttributes"]["channel"] == "web"  # an unknown key, echoed back
    assert last_event["sessionState"]["sessionAttributes"]["visits"] == "1"  # the previous response's map


def test_events_are_lex_v2_shaped(sim, function):
    play(sim, "book a flight", "Seattle")
    first, second = function.events("DialogCodeHook")
    assert first["proposedNextState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    assert first["proposedNextState"]["prompt"] == {"attempt": "Initial"}
    assert first["transcriptions"][0] == {
        "transcription": "book a flight",
        "transcriptionConfidence": 1,
        "resolvedContext": {"intent": "BookFlight"},
        "resolvedSlots": {},
    }
    assert second["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    slot = second["sessionState"]["intent"]["slots"]["DepartureCity"]
    assert slot == {
        "shape": "Scalar",
        "value": {"originalValue": "Seattle", "interpretedValue": "Seattle", "resolvedValues": ["Seattle"]},
    }
    assert {e["bot"]["aliasId"] for e in (first, second)} == {"TSTALIASID"}


def test_one_originating_request_id_per_turn(sim, function):
    play(sim, "hello", "hello")
    ids = [e["sessionState"]["originatingRequestId"] for e, _ in function.calls]
    assert ids[0] == ids[1]
    assert ids[1] != ids[2]


def test_the_stored_transcript_has_each_utterance_once(sim, function):
    lines = ("I want to book a flight", "Seattle", "Boston", "next friday")
    turns = play(sim, *lines)
    assert turns[-1].text == "Your flight from Seattle to Boston on 2026-07-03 is booked."
    last_request = [e for e, _ in function.calls if e["inputTranscript"] == "next friday"]
    assert [e["invocationSource"] for e in last_request] == ["DialogCodeHook", "FulfillmentCodeHook"]
    (one_go,) = play(sim, "fly from Lisbon to Rome on August 15th 2030", session="s2")  # both hooks, one request
    store = function.runtime.store
    bot_id = function.calls[0][0]["bot"]["id"]
    for session, said, answer in (
        ("s1", lines, turns[-1].text),
        ("s2", ("fly from Lisbon to Rome on August 15th 2030",), one_go.text),
    ):
        history = store.last_messages(SessionRef.lex(bot_id, session), 50)
        assert [m.content for m in history if m.role == "user"] == list(said)
        assert [m.content for m in history if m.role == "assistant"].count(answer) == 1
        assert store.get(SessionRef.lex(bot_id, session)).message_count == len(said)


def test_retries_run_out(sim):
    turns = play(sim, "book a flight from Seattle to Boston", "soon", "later", "whenever")
    assert [t.dialog_action["type"] for t in turns] == ["ElicitSlot", "ElicitSlot", "ElicitSlot", "Close"]
    assert turns[-1].text == GAVE_UP
    assert turns[-1].intent["state"] == "Failed"


def test_an_invalid_response_fails_the_turn_and_keeps_the_session():
    responses = iter([{"sessionState": {"dialogAction": {"type": "Close"}}}])  # Close without an intent
    sim = LexSimulator(BOT, lambda event: next(responses), today=lambda: TODAY)
    sim.set_attributes("s1", {"name": "Ana"})
    turn = sim.turn("s1", "hello")
    assert turn.dialog_action == {"type": "Error"}
    assert turn.problems
    assert sim.conversation("s1").attributes == {"name": "Ana"}


def test_a_crashing_function_fails_the_turn():
    def crash(event):
        raise RuntimeError("boom")

    turn = LexSimulator(BOT, crash, today=lambda: TODAY).turn("s1", "hello")
    assert turn.dialog_action == {"type": "Error"}
    assert "raised RuntimeError" in turn.problems[0]


# -- the pieces ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("today", TODAY),
        ("tomorrow", TODAY + timedelta(days=1)),
        ("the day after tomorrow", TODAY + timedelta(days=2)),
        ("friday", date(2026, 7, 3)),
        ("next friday", date(2026, 7, 3)),
        ("on Wednesday", date(2026, 7, 8)),
        ("last monday", date(2026, 6, 29)),
        ("2030-08-15", date(2030, 8, 15)),
        ("8/15/2030", date(2030, 8, 15)),
        ("August 15th, 2030", date(2030, 8, 15)),
        ("15 aug", date(2026, 8, 15)),
        ("june 1", date(2027, 6, 1)),
        ("in 3 days", TODAY + timedelta(days=3)),
        ("next week", TODAY + timedelta(days=7)),
        ("someday", None),
        ("2030-02-31", None),
    ],
)
def test_amazon_date(said, expected):
    assert parse_date(said, TODAY) == expected


def test_slot_types_resolve_by_strategy():
    spanish = resolve("LanguageType", "español", BOT.slot_types, TODAY)
    assert (spanish.interpreted, spanish.resolved) == ("español", ("es",))  # ORIGINAL_VALUE, accent-insensitive
    klingon = resolve("LanguageType", "klingon", BOT.slot_types, TODAY)
    assert (klingon.interpreted, klingon.resolved) == ("klingon", ())
    city = resolve("AMAZON.City", "to New York", BOT.slot_types, TODAY)
    assert city.interpreted == "New York"


def test_top_resolution_refuses_unknown_values():
    from dataclasses import replace

    strict = {"LanguageType": replace(BOT.slot_types["LanguageType"], strategy="TOP_RESOLUTION")}
    assert resolve("LanguageType", "Spanish", strict, TODAY).interpreted == "es"
    assert resolve("LanguageType", "klingon", strict, TODAY) is None


def test_matcher_is_deterministic_and_falls_back():
    assert classify(BOT, "what is the meaning of life", TODAY) == []
    top = classify(BOT, "Hi there!", TODAY)[0]
    assert (top.intent.name, top.confidence) == ("Greeting", 1.0)
    partial = classify(BOT, "hello, anyone home?", TODAY)[0]
    assert (partial.intent.name, partial.confidence) == ("Greeting", 0.8)


# -- the console: JSON entry point, terminal, in-process function -------------------------------------------
def test_json_entry_point(sim):
    console = LexConsole(sim)
    turn = console.handle({"sessionId": "s2", "text": "book a flight", "sessionAttributes": {"name": "Bo"}})
    assert turn["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    assert turn["intent"] == {
        "name": "BookFlight",
        "state": "InProgress",
        "confirmationState": "None",
        "slots": {"DepartureCity": None, "ArrivalCity": None, "DepartureDate": None},
    }
    assert turn["messages"] == [{"contentType": "PlainText", "content": "Which city are you leaving from?"}]
    assert turn["sessionAttributes"]["name"] == "Bo"
    assert json.loads(json.dumps(turn)) == turn
    assert console.handle({"text": "hi"})["error"]["code"] == "bad_request"
    assert console.handle({"sessionId": "s2", "text": "hello", "reset": True})["intent"]["name"] == "Greeting"


def test_terminal_session(sim):
    out = io.StringIO()
    script = io.StringIO("/attr name=Cy\nhello\n/json\nspeak Italian\n/quit\nnever read\n")
    assert repl(LexConsole(sim), "s3", script, out) == 0
    lines = out.getvalue().splitlines()
    assert "bot> Hello, Cy! Nice to meet you. I can book flights and remember your preferences." in lines
    assert "     [Close] Greeting (Fulfilled)" in lines
    assert json.loads(lines[-1])["messages"][0]["content"] == "Done. I'll speak Italian with you from now on."
    assert "never read" not in out.getvalue()
    assert describe(json.loads(lines[-1])).startswith("bot> Done.")


@pytest.fixture
def restored_environment(fake_aws_env):
    """The local run sets the function's environment in ``os.environ``, as Lambda would: undo it afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    import lex_app

    lex_app.configure()


def test_the_real_function_in_process_with_memory_stores(restored_environment):
    with local_console(memory=True) as console:
        console.simulator.today = lambda: TODAY
        console.simulator.validate = lexkit_problems
        greeting = console.turn("s4", "hello")
        fallback = console.turn("s4", "tell me something")
    assert greeting["problems"] == []
    assert greeting["messages"][0]["content"].startswith("Hello!")
    assert fallback["dialogAction"] == {"type": "ElicitIntent"}
    assert 'can\'t answer "tell me something"' in fallback["messages"][0]["content"]


# -- a user is never stuck on a slot ---------------------------------------------------------------------
def test_another_intent_said_while_a_slot_is_elicited_switches_to_it(sim):
    asked, greeted = play(sim, "book a flight", "hello")
    assert asked.dialog_action == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    assert greeted.intent["name"] == "Greeting"
    assert greeted.text.startswith("Hello, Ana!")
    (booking,) = play(sim, "book a flight")
    assert booking.dialog_action == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}  # a fresh booking


def test_a_slot_answer_that_is_no_other_intent_still_fills_the_slot(sim):
    _, answered = play(sim, "book a flight", "Seattle")
    assert answered.slots["DepartureCity"] == "Seattle"
    assert answered.dialog_action == {"type": "ElicitSlot", "slotToElicit": "ArrivalCity"}


def test_switch_to_a_language_in_one_utterance(sim):
    (switched,) = play(sim, "switch to italian")
    assert switched.text == "Done. I'll speak Italian with you from now on."
    (changed,) = play(sim, "change my language to french")
    assert changed.text == "Done. I'll speak French with you from now on."


def test_the_same_slot_asked_again_and_again_says_how_to_get_out(sim):
    asked, first, second, third = play(sim, "change my language", "klingon", "elvish", "sindarin")
    assert asked.stuck is None
    assert first.stuck is None
    assert second.stuck == {"intent": "UpdatePreferences", "slot": "Language", "tries": 2}
    assert third.stuck["tries"] == 3
    assert second.to_dict()["stuck"] == second.stuck
    hint = describe(second.to_dict()).splitlines()[-1]
    assert "asked for Language of UpdatePreferences 3 times" in hint
    assert "/reset" in hint
    assert "book a flight" in hint
    (out,) = play(sim, "book a flight")
    assert out.intent["name"] == "BookFlight"
    assert out.stuck is None


def test_the_terminal_lists_its_commands_on_help(sim):
    out = io.StringIO()
    repl(LexConsole(sim), "s5", io.StringIO("/help\n/nonsense\n"), out)
    lines = out.getvalue().splitlines()
    assert lines[1] == lines[3] == "     " + HELP
    assert "/reset" in HELP
    assert "/help" in HELP
    assert "/quit" in HELP
