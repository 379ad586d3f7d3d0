"""The sample bot's FallbackIntent is an agent turn (built-in responder, Bedrock via Stubber)."""

from __future__ import annotations

import json
import threading
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from lex_bot.attributes import BotAttributes
from lex_bot.intents import REPROMPT, router

from chatstate.chat.bedrock import BedrockConverseResponder
from chatstate.chat.errors import ResponderFailed, ResponderUnavailable
from chatstate.chat.responders import EchoMemoryResponder
from chatstate.deadline import Deadline, within
from chatstate.lex import IntentRouter, LexRuntime
from chatstate.lex.agent import AGENT_MAX_MESSAGES, MIN_REPLY_SECONDS, AgentReply
from chatstate.lex.models import MAX_MESSAGE_CHARS
from chatstate.models import SessionRef
from chatstate.store.memory import InMemorySessionStore
from tests.lexkit import assert_valid, dialog_action, fixed_now, lex_context, load_event, messages_text, new_request

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
REF = SessionRef.lex("CHATBOT01", "user-ana-0001")


class Scripted:
    """A responder that answers with a fixed value (or raises it) and records what it was given."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[Any, list[Any], str]] = []

    def reply(self, session, history, message):
        self.calls.append((session, list(history), message))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def store() -> InMemorySessionStore:
    return InMemorySessionStore()


def bot_with(store: InMemorySessionStore, responder: Any) -> LexRuntime[BotAttributes]:
    return LexRuntime(router, store=store, now=fixed_now, responder=responder, history_turns=5)


def attrs_of(response: dict[str, Any]) -> dict[str, str]:
    return response["sessionState"]["sessionAttributes"]


def fallback(text: str = "what is the meaning of life") -> dict[str, Any]:
    event = load_event("lex_fallback")
    event["inputTranscript"] = text
    return event


def test_fallback_is_an_agent_turn_that_uses_the_session(store):
    bot = bot_with(store, EchoMemoryResponder())
    bot.handle(load_event("lex_update_preferences_fulfillment"))
    booked = assert_valid(bot.handle(load_event("lex_book_flight_fulfillment")))
    event = fallback("what do you know about me?")
    event["sessionState"]["sessionAttributes"] = attrs_of(booked)
    response = assert_valid(bot.handle(event))
    assert dialog_action(response) == "ElicitIntent"
    text = messages_text(response)
    assert text.startswith("I know that your name is Ana, you prefer Spanish, your last booking is Seattle → Boston")
    assert "you have sent 3 messages here" in text
    assert REPROMPT not in text
    # the turn is in the durable transcript, and the typed state is as it was
    loaded = store.load(REF, last=2)
    assert [m.role for m in loaded.recent] == ["user", "assistant"]
    assert loaded.recent[0].content == "what do you know about me?"
    assert loaded.recent[1].content == text
    assert attrs_of(response)["language"] == attrs_of(booked)["language"]
    assert attrs_of(response)["lastBooking"] == attrs_of(booked)["lastBooking"]


def test_agent_sees_the_last_turns_of_the_lex_transcript(store):
    responder = Scripted("Forty-two.")
    bot = bot_with(store, responder)
    bot.handle(load_event("lex_greeting"))
    bot.handle(fallback("first question"))
    bot.handle(fallback("second question"))
    session, history, message = responder.calls[-1]
    assert message == "second question"
    assert [m.content for m in history if m.role == "user"] == ["hello", "first question"]
    assert session.state["name"] == "Ana"
    assert "loyalty_token" not in session.state  # a secret server-only field never reaches the model


@pytest.mark.parametrize("error", [ResponderFailed("boom"), ResponderUnavailable("busy"), RuntimeError("bug")])
def test_responder_failure_gives_the_polite_reprompt(store, error):
    bot = bot_with(store, Scripted(error))
    response = assert_valid(bot.handle(fallback()))
    assert dialog_action(response) == "ElicitIntent"
    assert messages_text(response) == REPROMPT


def test_deadline_too_short_for_a_reply_reprompts_without_calling_the_responder(store):
    responder = Scripted("never")
    bot = bot_with(store, responder)
    with within(Deadline(MIN_REPLY_SECONDS / 2)):  # enough for the store, not for a reply
        response = assert_valid(bot.handle(fallback()))
    assert messages_text(response) == REPROMPT
    assert responder.calls == []


def test_a_responder_that_outlives_the_deadline_gives_the_reprompt(store):
    release = threading.Event()

    class Stuck:
        def reply(self, session, history, message):
            release.wait(10)
            return "too late"

    bot = bot_with(store, Stuck())
    try:
        with within(Deadline(0.8)):
            response = assert_valid(bot.handle(fallback()))
    finally:
        release.set()
    assert messages_text(response) == REPROMPT


def test_structured_answer_changes_only_valid_client_fields(store):
    answer = AgentReply("Je parle français.", {"language": "fr", "visits": 99, "name": 7, "nope": 1})
    bot = bot_with(store, Scripted(answer))
    response = assert_valid(bot.handle(fallback("parle français")))
    assert messages_text(response) == "Je parle français."
    attributes = attrs_of(response)
    assert json.loads(attributes["language"]) == "fr"
    assert attributes["name"] == "Ana"  # a mistyped change is refused
    assert attributes["visits"] == "0"  # server-only: the agent cannot change it
    assert store.get(REF).state["language"] == "fr"


def test_long_answers_fit_lex_message_limits(store):
    bot = bot_with(store, Scripted("word " * 2000))
    response = assert_valid(bot.handle(fallback()))
    contents = [m["content"] for m in response["messages"]]
    assert len(contents) == AGENT_MAX_MESSAGES
    assert all(len(c) <= MAX_MESSAGE_CHARS for c in contents)
    assert contents[-1].endswith("…")


def test_blank_answer_or_utterance_reprompts(store):
    assert messages_text(bot_with(store, Scripted("   ")).handle(fallback())) == REPROMPT
    assert messages_text(bot_with(store, Scripted("hi")).handle(fallback(""))) == REPROMPT


def test_switch_off_keeps_the_plain_fallback(store):
    plain = IntentRouter[BotAttributes]()
    responder = Scripted("agent")
    bot = LexRuntime(plain, store=store, now=fixed_now, responder=responder)
    response = assert_valid(bot.handle(fallback()))
    assert dialog_action(response) == "Close"  # no handler: Close/Failed, the agent is never asked
    assert responder.calls == []


def test_other_intents_do_not_load_history_or_call_the_agent(store):
    responder = Scripted("agent")
    bot = bot_with(store, responder)
    assert messages_text(assert_valid(bot.handle(load_event("lex_greeting")))).startswith("Hello, Ana!")
    assert responder.calls == []


# -- Bedrock Converse, through botocore's Stubber ------------------------------------------------------
@pytest.fixture
def bedrock():
    client = botocore.session.get_session().create_client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def converse_response(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 42},
    }


def test_bedrock_agent_gets_the_lex_transcript(store, bedrock):
    client, stubber = bedrock
    bot = bot_with(store, BedrockConverseResponder(MODEL, client=client, max_turns=5))
    greeted = bot.handle(load_event("lex_greeting"))
    greeting_reply = messages_text(greeted)
    stubber.add_response(
        "converse",
        converse_response("Paris is lovely in spring."),
        {
            "modelId": MODEL,
            "messages": [
                {"role": "user", "content": [{"text": "hello"}]},
                {"role": "assistant", "content": [{"text": greeting_reply}]},
                {"role": "user", "content": [{"text": "where should I travel?"}]},
            ],
            "system": [{"text": stubber_any()}],
            "inferenceConfig": stubber_any(),
        },
    )
    response = assert_valid(bot.handle(fallback("where should I travel?")))
    assert dialog_action(response) == "ElicitIntent"
    assert messages_text(response) == "Paris is lovely in spring."
    assert store.load(REF, last=1).recent[0].content == "Paris is lovely in spring."


def test_bedrock_throttling_gives_the_reprompt(store, bedrock):
    client, stubber = bedrock
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    bot = bot_with(store, BedrockConverseResponder(MODEL, client=client))
    response = assert_valid(bot.handle(fallback()))
    assert messages_text(response) == REPROMPT


def stubber_any() -> Any:
    from botocore.stub import ANY

    return ANY


# -- the Lambda handler: the built-in responder by default ---------------------------------------------
def test_lambda_handler_answers_fallback_with_the_builtin_agent(store, monkeypatch):
    import lex_app

    monkeypatch.setenv("SESSION_TABLE_NAME", "unused-table")
    monkeypatch.delenv("BEDROCK_MODEL_ID", raising=False)
    lex_app.configure(store=store)
    try:
        response = assert_valid(lex_app.lambda_handler(fallback("tell me a joke"), lex_context()))
    finally:
        lex_app.configure()
    assert dialog_action(response) == "ElicitIntent"
    assert 'can\'t answer "tell me a joke"' in messages_text(response)


def test_the_agent_sees_a_turns_utterance_once(store):
    responder = Scripted("ok")
    bot = bot_with(store, responder)
    dialog = load_event("lex_book_flight_dialog")
    bot.handle(dialog)  # the dialog hook and then the fulfillment hook of one Lex request: one user message
    bot.handle(load_event("lex_book_flight_fulfillment") | {"inputTranscript": dialog["inputTranscript"]})
    bot.handle(fallback("and now?"))
    _, history, _ = responder.calls[-1]
    assert [m.content for m in history if m.role == "user"] == [dialog["inputTranscript"]]


def test_the_agent_sees_a_user_who_repeats_themselves_twice(store):
    responder = Scripted("ok")
    bot = bot_with(store, responder)
    bot.handle(fallback("are you there?"))
    bot.handle(new_request(fallback("are you there?")))  # a second request with the same words
    bot.handle(new_request(fallback("hello?")))
    _, history, _ = responder.calls[-1]
    assert [m.content for m in history if m.role == "user"] == ["are you there?", "are you there?"]


def test_a_responder_bug_is_logged_without_what_the_user_said(store, caplog):
    marker = "MARKER-utterance-7f3a"
    bot = bot_with(store, Scripted(RuntimeError(f"cannot handle {marker}")))
    event = fallback()
    event["inputTranscript"] = f"tell me about {marker}"
    with caplog.at_level("DEBUG"):
        assert messages_text(assert_valid(bot.handle(event))) == REPROMPT
    assert "agent responder raised" in caplog.text
    assert marker not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)  # no traceback: it ends with the message
