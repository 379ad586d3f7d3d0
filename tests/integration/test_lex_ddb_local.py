"""Integration: the Lex handler against DynamoDB Local, with the table created from template.yaml."""

from __future__ import annotations

import copy
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import lex_app
import pytest
from lex_bot.intents import router

from chatstate.lex import LexRuntime
from chatstate.models import SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore
from tests.lexkit import (
    EVENTS,
    assert_valid,
    fixed_now,
    greet_concurrently,
    lex_context,
    load_event,
    messages_text,
    new_request,
    sample_events,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def handler(session_table):
    lex_app.configure()
    yield lambda event: assert_valid(lex_app.lambda_handler(event, lex_context()))
    lex_app.configure()


def count_requests(store: DynamoDBSessionStore) -> Counter[str]:
    """Count HTTP requests the store's client sends (every attempt, retries included)."""
    sent: Counter[str] = Counter()
    store.client.meta.events.register(
        "before-send.dynamodb.*", lambda request, **_: sent.update([request.headers["X-Amz-Target"].decode()])
    )
    return sent


def test_conversation_at_most_two_dynamodb_requests_per_turn(handler):
    store = lex_app.dependencies().store
    assert isinstance(store, DynamoDBSessionStore)
    sent = count_requests(store)
    per_turn = []
    attributes = None
    for path in sorted((EVENTS / "lex_conversation").glob("turn_*.json")):
        event = json.loads(path.read_text())
        if attributes is not None:
            event["sessionState"]["sessionAttributes"] = attributes
        before = sum(sent.values())
        response = handler(event)
        per_turn.append(sum(sent.values()) - before)
        attributes = response["sessionState"]["sessionAttributes"]
    assert messages_text(response) == "Ciao, Ana! Welcome back, this is visit number 2."
    assert all(1 <= n <= 2 for n in per_turn), (per_turn, sent)
    session = store.get(SessionRef.lex("CHATBOT01", "conversation-0001"))
    assert session is not None
    assert session.state["language"] == "it"
    assert session.message_count == 6


@pytest.mark.parametrize("path", sample_events(), ids=lambda p: p.name)
def test_every_corpus_event_on_dynamodb_local(handler, path):
    event = json.loads(path.read_text())
    before = copy.deepcopy(event)
    assert_valid(handler(event))
    assert event == before


def test_concurrent_turns_on_one_session_lose_no_message(session_table):
    store = DynamoDBSessionStore(session_table)
    runtime = LexRuntime(router, store=store, now=fixed_now)
    event = load_event("lex_greeting")
    del event["sessionState"]["sessionAttributes"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: runtime.handle(new_request(event)), range(8)))
    for response in responses:
        assert_valid(response)
    session = store.get(SessionRef.lex("CHATBOT01", event["sessionId"]))
    assert session is not None
    assert session.message_count == sum(1 for r in responses if r["sessionState"]["intent"]["state"] == "Fulfilled")


def test_concurrent_greetings_count_every_visit_exactly_on_dynamodb(session_table):
    store = DynamoDBSessionStore(session_table)
    runtime = LexRuntime(router, store=store, now=fixed_now)
    responses, last = greet_concurrently(runtime, store)
    visits = sorted(int(messages_text(r).rsplit(" ", 1)[-1].rstrip(".")) for r in responses)
    assert visits == [2, 3, 4, 5, 6]
    assert messages_text(last).endswith("this is visit number 7.")
    session = store.get(SessionRef.lex("CHATBOT01", load_event("lex_greeting")["sessionId"]))
    assert (session.state["visits"], session.message_count) == (7, 7)


def test_both_code_hooks_of_one_request_record_the_utterance_once_on_dynamodb(handler):
    store = lex_app.dependencies().store
    sent = count_requests(store)
    greeting = load_event("lex_greeting")
    ref = SessionRef.lex(greeting["bot"]["id"], greeting["sessionId"])
    per_invocation = []
    for request in (greeting, new_request(greeting)):  # two requests with the same words
        for source in ("DialogCodeHook", "FulfillmentCodeHook"):
            before = sum(sent.values())
            handler(copy.deepcopy(request) | {"invocationSource": source})
            per_invocation.append(sum(sent.values()) - before)
    history = store.last_messages(ref, 20)
    assert [m.content for m in history if m.role == "user"] == ["hello", "hello"]
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert store.get(ref).message_count == 2
    assert all(n <= 2 for n in per_invocation), (per_invocation, sent)  # still one load and one write
