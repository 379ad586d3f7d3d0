"""The Lex runtime: every turn answered validly, state durable and typed, failures never erase attributes."""

from __future__ import annotations

import copy
import json
import logging
from collections import Counter
from typing import Any

import pytest
from lex_bot.intents import router as bot_router

from chatstate.attributes import SessionAttributes
from chatstate.chat.responders import EchoMemoryResponder
from chatstate.exceptions import ConflictError, StoreUnavailable
from chatstate.lex import IntentRouter, LexRuntime
from chatstate.models import SessionRef
from chatstate.store.memory import InMemorySessionStore
from tests.lexkit import (
    EVENTS,
    assert_valid,
    dialog_action,
    fixed_now,
    greet_concurrently,
    load_event,
    messages_text,
    new_request,
    sample_events,
)


class CountingMetrics:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.counts[name] += value


class CountingStore(InMemorySessionStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def load(self, ref, *, last=10):
        self.calls["load"] += 1
        return super().load(ref, last=last)

    def append(self, ref, messages, **kwargs):
        self.calls["append"] += 1
        return super().append(ref, messages, **kwargs)


class FailingStore(InMemorySessionStore):
    def __init__(self, error: Exception, *, on: str = "load") -> None:
        super().__init__()
        self.error = error
        self.on = on

    def load(self, ref, *, last=10):
        if self.on == "load":
            raise self.error
        return super().load(ref, last=last)

    def append(self, ref, messages, **kwargs):
        if self.on == "append":
            raise self.error
        return super().append(ref, messages, **kwargs)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def metrics() -> CountingMetrics:
    return CountingMetrics()


@pytest.fixture
def runtime(store, metrics) -> LexRuntime:
    return LexRuntime(bot_router, store=store, metrics=metrics, now=fixed_now)


def ref_of(event: dict[str, Any]) -> SessionRef:
    return SessionRef.lex(event["bot"]["id"], event["sessionId"])


# -- the shape corpus (events/lex_shapes) --------------------------------------------------------
@pytest.mark.parametrize("path", sample_events(), ids=lambda p: p.name)
@pytest.mark.parametrize("which", ["sample bot", "no handlers"])
def test_every_corpus_event_is_answered_validly(path, which, store):
    event = json.loads(path.read_text())
    before = copy.deepcopy(event)
    router = bot_router if which == "sample bot" else IntentRouter()
    response = assert_valid(LexRuntime(router, store=store, now=fixed_now).handle(event))
    assert event == before
    inbound = before["sessionState"].get("sessionAttributes") or {}
    assert inbound.items() <= response["sessionState"].get("sessionAttributes", {}).items()


@pytest.mark.parametrize("path", sorted(p.name for p in EVENTS.glob("lex_*.json")))
def test_every_event_file_is_answered_validly_and_not_mutated(path, runtime):
    event = load_event(path)
    before = copy.deepcopy(event)
    assert_valid(runtime.handle(event))
    assert event == before


# -- unknown intents -------------------------------------------------------------------------------
def test_unknown_intent_delegates_on_dialog_and_fails_politely_on_fulfillment(runtime):
    dialog_response = assert_valid(runtime.handle(load_event("lex_unknown_intent_dialog")))
    assert dialog_action(dialog_response) == "Delegate"
    response = assert_valid(runtime.handle(load_event("lex_unknown_intent")))
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"] == {
        "name": "OrderPizza",
        "slots": response["sessionState"]["intent"]["slots"],
        "state": "Failed",
        "confirmationState": "None",
    }
    assert "Sorry" in messages_text(response)
    assert response["sessionState"]["sessionAttributes"]["cart"] == "[1,2]"


# -- invalid events --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        [],
        "not an event",
        {"sessionState": None},
        {"sessionState": {"intent": {"name": 3}}, "sessionId": 5},
        {"messageVersion": "1.0", "invocationSource": "DialogCodeHook", "sessionId": "s1", "bot": {"id": "B"}},
    ],
    ids=repr,
)
def test_invalid_events_get_a_valid_elicit_intent(event, runtime, metrics):
    response = assert_valid(runtime.handle(event))
    assert dialog_action(response) == "ElicitIntent"
    assert messages_text(response)
    assert metrics.counts["LexErrors"] == 1


def test_invalid_event_with_known_intent_closes_failed_and_echoes_attributes(runtime):
    event = load_event("lex_greeting")
    event["bot"] = "not a bot"
    event["sessionState"]["sessionAttributes"] = {"name": "Ana", "cart": "[1]"}
    response = assert_valid(runtime.handle(event))
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"]["state"] == "Failed"
    assert response["sessionState"]["sessionAttributes"] == {"name": "Ana", "cart": "[1]"}


def test_invalid_session_id_is_answered_validly(runtime):
    event = load_event("lex_greeting")
    event["sessionId"] = "has spaces and #"
    response = assert_valid(runtime.handle(event))
    assert response["sessionState"]["sessionAttributes"] == {"name": "Ana"}


# -- failures --------------------------------------------------------------------------------------
def _boom(ctx):
    raise RuntimeError("handler bug")


@pytest.mark.parametrize("source", ["FulfillmentCodeHook", "DialogCodeHook"])
def test_handler_exception_closes_failed_and_keeps_state(source, store, metrics, caplog):
    router = IntentRouter(SessionAttributes, dialog={"Greeting": _boom}, fulfillment={"Greeting": _boom})
    event = load_event("lex_greeting")
    event["invocationSource"] = source
    event["sessionState"]["sessionAttributes"] = {"name": "Ana", "other": "kept"}
    with caplog.at_level(logging.ERROR):
        response = assert_valid(LexRuntime(router, store=store, metrics=metrics).handle(event))
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"]["state"] == "Failed"
    assert response["sessionState"]["sessionAttributes"] == {"name": "Ana", "other": "kept"}
    assert store.get(ref_of(event)) is None
    assert metrics.counts["LexErrors"] == 1
    assert [r.error_type for r in caplog.records if hasattr(r, "error_type")] == ["RuntimeError"]
    assert "handler bug" not in caplog.text  # the exception's text is not logged (it may quote user input)


@pytest.mark.parametrize(
    ("error", "on"),
    [
        (StoreUnavailable("throttled"), "load"),
        (StoreUnavailable("unreachable"), "append"),
        (ConflictError("lost every retry"), "append"),
    ],
)
def test_store_failure_answers_validly_with_attributes_echoed(error, on, metrics):
    runtime = LexRuntime(bot_router, store=FailingStore(error, on=on), metrics=metrics, now=fixed_now)
    event = load_event("lex_book_flight_fulfillment")
    event["sessionState"]["sessionAttributes"] = {"name": "Ana", "language": "es", "clientKey": "v"}
    response = assert_valid(runtime.handle(event))
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"]["state"] == "Failed"
    assert response["sessionState"]["sessionAttributes"] == {"name": "Ana", "language": "es", "clientKey": "v"}
    assert metrics.counts["LexErrors"] == 1


def test_store_failure_with_missing_attributes_leaves_them_out(metrics):
    runtime = LexRuntime(bot_router, store=FailingStore(StoreUnavailable("down")), metrics=metrics)
    response = assert_valid(runtime.handle(load_event("lex_missing_session_attributes")))
    assert "sessionAttributes" not in response["sessionState"]


def test_attributes_too_large_close_failed_without_attributes_and_nothing_saved(store, metrics):
    class Big(SessionAttributes):
        blob: str = ""

    def grow(ctx):
        ctx.attributes.blob = "x" * 20_000
        return ctx.close("Fulfilled", "Done")

    runtime = LexRuntime(IntentRouter(Big, fulfillment={"Greeting": grow}), store=store, metrics=metrics)
    event = load_event("lex_greeting")
    response = assert_valid(runtime.handle(event))
    assert dialog_action(response) == "Close"
    assert response["sessionState"]["intent"]["state"] == "Failed"
    assert "sessionAttributes" not in response["sessionState"]
    assert store.get(ref_of(event)) is None
    assert metrics.counts["LexErrors"] == 1


# -- state -----------------------------------------------------------------------------------------
def test_one_load_and_one_append_per_turn_with_the_transcript(runtime, store, metrics):
    event = load_event("lex_greeting")
    response = assert_valid(runtime.handle(event))
    assert store.calls == Counter({"load": 1, "append": 1})
    history = store.last_messages(ref_of(event), 10)
    assert [(m.role, m.content) for m in history] == [("user", "hello"), ("assistant", messages_text(response))]
    assert metrics.counts["LexTurns"] == 1


def test_no_leak_between_invocations_without_session_attributes(runtime):
    first = load_event("lex_missing_session_attributes")
    first["sessionState"]["sessionAttributes"] = {"name": "Ana"}
    first["sessionId"] = "user-a"
    assert "Ana" in messages_text(assert_valid(runtime.handle(first)))
    second = load_event("lex_missing_session_attributes")
    second["sessionId"] = "user-b"
    response = assert_valid(runtime.handle(second))
    assert "Ana" not in json.dumps(response)
    assert "Nice to meet you" in messages_text(response)
    empty = load_event("lex_missing_session_attributes")
    empty["sessionId"] = "user-c"
    empty["sessionState"]["sessionAttributes"] = {}
    assert "Ana" not in json.dumps(assert_valid(runtime.handle(empty)))


def test_tampered_server_only_attributes_are_ignored(runtime, store, metrics):
    event = load_event("lex_tampered_server_only")
    response = assert_valid(runtime.handle(event))
    attributes = response["sessionState"]["sessionAttributes"]
    assert attributes["visits"] == "1"
    assert attributes["tier"] == '"standard"'
    assert "loyaltyToken" not in attributes
    assert "visit number 1000" not in messages_text(response)
    state = store.get(ref_of(event)).state
    assert state["visits"] == 1
    assert state["tier"] == "standard"
    assert state["loyalty_token"] is None
    assert metrics.counts["LexTamperedAttributes"] == 3


def test_bad_json_attribute_falls_back_and_is_counted(runtime, metrics):
    response = assert_valid(runtime.handle(load_event("lex_bad_json_attribute")))
    attributes = response["sessionState"]["sessionAttributes"]
    assert json.loads(attributes["intentCounts"]) == {"Greeting": 1}
    assert json.loads(attributes["recentBookings"]) == []
    assert messages_text(response).startswith("Hola, Ana!")
    assert metrics.counts["LexRejectedAttributes"] == 2


def test_extras_are_echoed_but_never_persisted(runtime, store):
    event = load_event("lex_fallback")
    response = assert_valid(runtime.handle(event))
    assert response["sessionState"]["sessionAttributes"]["channel"] == "web"
    assert "channel" not in store.get(ref_of(event)).state


def test_originating_request_id_is_echoed_from_the_event_only(store):
    def with_request_id(ctx):
        from chatstate.lex import dialog

        return dialog.close(ctx.intent, "Fulfilled", "ok", originating_request_id=ctx.event.session_id)

    runtime = LexRuntime(IntentRouter(fulfillment={"Greeting": with_request_id}), store=store)
    event = load_event("lex_greeting")
    response = assert_valid(runtime.handle(event))
    assert response["sessionState"]["originatingRequestId"] == event["sessionState"]["originatingRequestId"]
    del event["sessionState"]["originatingRequestId"]
    assert "originatingRequestId" not in assert_valid(runtime.handle(event))["sessionState"]
    plain = assert_valid(LexRuntime(bot_router, store=store).handle(load_event("lex_greeting")))
    assert "originatingRequestId" not in plain["sessionState"]


def test_logs_carry_ids_but_never_transcript_or_attribute_values(runtime, caplog):
    event = load_event("lex_book_flight_fulfillment")
    event["inputTranscript"] = "my secret transcript"
    event["sessionState"]["sessionAttributes"] = {"name": "Zebulon", "intentCounts": "{bad"}
    with caplog.at_level(logging.DEBUG, logger="chatstate.lex"):
        assert_valid(runtime.handle(event))
    records = [{**r.__dict__, "msg": r.getMessage()} for r in caplog.records]
    dumped = json.dumps(records, default=str)
    assert "user-ana-0001" in dumped
    assert "my secret transcript" not in dumped
    assert "Zebulon" not in dumped
    assert "Boston" not in dumped


def test_echoed_server_only_values_are_not_counted_as_tampering(runtime, metrics):
    first = assert_valid(runtime.handle(load_event("lex_greeting")))
    echoed = load_event("lex_greeting")
    echoed["sessionState"]["sessionAttributes"] = first["sessionState"]["sessionAttributes"]
    assert "visits" in echoed["sessionState"]["sessionAttributes"]
    second = assert_valid(runtime.handle(echoed))
    assert "visit number 2" in messages_text(second)
    assert metrics.counts["LexTamperedAttributes"] == 0
    forged = load_event("lex_greeting")
    forged["sessionState"]["sessionAttributes"] = {**second["sessionState"]["sessionAttributes"], "visits": "99"}
    assert "visit number 3" in messages_text(assert_valid(runtime.handle(forged)))
    assert metrics.counts["LexTamperedAttributes"] == 1


# -- concurrent turns: a turn is re-run on the fresh state, counters are exact -------------
def test_concurrent_greetings_count_every_visit_exactly() -> None:
    store = InMemorySessionStore()
    runtime = LexRuntime(bot_router, store=store, now=fixed_now)
    responses, last = greet_concurrently(runtime, store)
    visits = sorted(int(messages_text(r).rsplit(" ", 1)[-1].rstrip(".")) for r in responses)
    assert visits == [2, 3, 4, 5, 6]  # each concurrent turn saw the one before it
    assert messages_text(last).endswith("this is visit number 7.")
    assert store.get(SessionRef.lex("CHATBOT01", load_event("lex_greeting")["sessionId"])).message_count == 7


# -- one utterance, one user message (Lex calls both code hooks with the same request) -----------------
def hook_pair(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dialog-hook and fulfillment-hook invocations Lex makes for one request of ``event``."""
    dialog = copy.deepcopy(event) | {"invocationSource": "DialogCodeHook"}
    return dialog, copy.deepcopy(event) | {"invocationSource": "FulfillmentCodeHook"}


def transcript(store: InMemorySessionStore, event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in store.last_messages(ref_of(event), 50)]


def test_both_code_hooks_of_one_request_record_the_utterance_once(runtime, store):
    dialog, fulfillment = hook_pair(load_event("lex_greeting"))
    assert dialog_action(assert_valid(runtime.handle(dialog))) == "Delegate"
    answer = messages_text(assert_valid(runtime.handle(fulfillment)))
    assert transcript(store, dialog) == [("user", "hello"), ("assistant", answer)]
    assert store.get(ref_of(dialog)).message_count == 1


def test_another_request_with_the_same_words_is_recorded_again(runtime, store):
    for event in hook_pair(load_event("lex_greeting")) + hook_pair(new_request(load_event("lex_greeting"))):
        assert_valid(runtime.handle(event))
    assert [text for role, text in transcript(store, load_event("lex_greeting")) if role == "user"] == ["hello"] * 2
    assert store.get(ref_of(load_event("lex_greeting"))).message_count == 2


def test_a_retried_request_does_not_record_the_utterance_again(runtime, store):
    event = load_event("lex_greeting")
    assert_valid(runtime.handle(event))
    assert_valid(runtime.handle(copy.deepcopy(event)))  # Lex invoking the same request again
    assert [role for role, _ in transcript(store, event)].count("user") == 1


def test_a_dialog_hook_only_turn_records_the_utterance_once(runtime, store):
    event = load_event("lex_book_flight_same_city")
    response = assert_valid(runtime.handle(event))
    assert transcript(store, event) == [("user", event["inputTranscript"]), ("assistant", messages_text(response))]


def test_events_without_an_originating_request_id_are_recorded_as_they_come(runtime, store):
    event = load_event("lex_greeting")
    del event["sessionState"]["originatingRequestId"]
    for invocation in hook_pair(event):
        assert_valid(runtime.handle(invocation))
    assert [role for role, _ in transcript(store, event)].count("user") == 2  # nothing tells them apart


def test_the_builtin_agent_counts_each_utterance_once(store):
    runtime = LexRuntime(bot_router, store=store, now=fixed_now, responder=EchoMemoryResponder())
    for event in hook_pair(load_event("lex_greeting")):
        assert_valid(runtime.handle(event))
    asked = load_event("lex_fallback")
    asked["inputTranscript"] = "how many messages have I sent?"
    answer = messages_text(assert_valid(runtime.handle(asked)))
    assert answer == "You have sent 2 messages in this conversation, this one included."
    asked["inputTranscript"] = "what did I say?"
    asked["sessionState"]["originatingRequestId"] = "another-request"
    assert messages_text(assert_valid(runtime.handle(asked))) == 'You said: "how many messages have I sent?"'


def test_two_invocations_of_one_request_racing_record_the_utterance_once() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    store = InMemorySessionStore()
    runtime = LexRuntime(bot_router, store=store, now=fixed_now)
    event = load_event("lex_greeting")
    barrier = threading.Barrier(2)
    original = store.load

    def load(ref, *, last=10):
        loaded = original(ref, last=last)
        barrier.wait(timeout=30)  # both read the session before either writes
        return loaded

    store.load = load
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(runtime.handle, hook_pair(event)))
    finally:
        del store.load
    for response in responses:
        assert_valid(response)
    assert [role for role, _ in transcript(store, event)].count("user") == 1
