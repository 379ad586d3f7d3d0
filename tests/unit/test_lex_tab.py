"""The local page's Lex tab, server side: ``POST /_local/lex/turn`` and ``/_local/lex/reset`` (devtools/lex_tab.py)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from lex_bot.intents import router

from chatstate.chat.responders import EchoMemoryResponder
from chatstate.lex import LexRuntime
from chatstate.store.memory import InMemorySessionStore
from devtools import cli
from devtools.gateway import ChatApiGateway
from devtools.lex_console import LexConsole
from devtools.lex_tab import MAX_TEXT_CHARS, LexTab
from devtools.lexsim.definition import load_bot
from devtools.lexsim.engine import LexSimulator
from devtools.server import LocalApp, Request
from devtools.template import function_spec
from tests.lexkit import FIXED_NOW, fixed_now

BOT = load_bot()


class Function:
    """The sample bot's runtime in-process (in-memory store), recording events and how many overlapped per session."""

    def __init__(self) -> None:
        self.runtime = LexRuntime(router, store=InMemorySessionStore(), now=fixed_now, responder=EchoMemoryResponder())
        self.events: list[dict[str, Any]] = []
        self.pause = 0.0
        self._guard = threading.Lock()
        self._running: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        session = event["sessionId"]
        with self._guard:
            self.events.append(event)
            self._running[session] = self._running.get(session, 0) + 1
            self.most_at_once[session] = max(self.most_at_once.get(session, 0), self._running[session])
        try:
            time.sleep(self.pause)  # widens the window in which two turns of a session could overlap
            return self.runtime.handle(event)
        finally:
            with self._guard:
                self._running[session] -= 1


class NoChat:
    """The chat function is not called by the Lex tab's endpoints."""

    spec = function_spec("AgentChatFunction")

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("the chat function was called")


@pytest.fixture
def function() -> Function:
    return Function()


@pytest.fixture
def tab(function: Function) -> LexTab:
    return LexTab(LexConsole(LexSimulator(BOT, function, today=lambda: FIXED_NOW.date())))


@pytest.fixture
def app(tab: LexTab) -> LocalApp:
    return cli.build_app(ChatApiGateway(NoChat()), table="t", lex=tab)


def post(app: LocalApp, name: str, body: Any) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    result = app.handle(Request("POST", f"/_local/{name}", [("content-type", "application/json")], raw))
    assert ("content-type", "application/json") in result.headers
    return result.status, json.loads(result.body)


def say(app: LocalApp, text: str, session: str = "page-1", **extra: Any) -> dict[str, Any]:
    status, turn = post(app, "lex/turn", {"sessionId": session, "text": text, **extra})
    assert status == 200, turn
    assert turn["problems"] == []
    return turn


def test_a_turn_shows_the_dialog_action_intent_slots_and_attributes(app: LocalApp) -> None:
    hello = say(app, "hello", sessionAttributes={"name": "Ana"})
    assert hello["messages"][0]["content"].startswith("Hello, Ana! Nice to meet you.")
    assert hello["dialogAction"] == {"type": "Close"}
    assert hello["intent"]["name"] == "Greeting"
    assert hello["intent"]["state"] == "Fulfilled"
    assert hello["sessionAttributes"]["name"] == "Ana"

    assert say(app, "book a flight")["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "DepartureCity"}
    booking = say(app, "Seattle")
    assert booking["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "ArrivalCity"}
    assert booking["intent"]["slots"] == {"DepartureCity": "Seattle", "ArrivalCity": None, "DepartureDate": None}
    assert say(app, "Seattle")["messages"][0]["content"].startswith("You are already in Seattle.")


def test_the_info_endpoint_names_the_bot(app: LocalApp) -> None:
    result = app.handle(Request("GET", "/_local/info", [], b""))
    lex = json.loads(result.body)["lex"]
    intents = [i.name for i in BOT.intents]
    assert lex == {"bot": BOT.name, "locale": "en_US", "intents": intents, "maxTextChars": MAX_TEXT_CHARS}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not valid JSON"),
        (b"", "the body must be a JSON object"),
        (["hello"], "the body must be a JSON object"),
        ({"sessionId": "page-1"}, "text: Field required"),
        ({"sessionId": "page-1", "text": ""}, "text: String should have at least 1 character"),
        ({"sessionId": "page-1", "text": 42}, "text: Input should be a valid string"),
        ({"text": "hi"}, "sessionId: Field required"),
        ({"sessionId": "a b", "text": "hi"}, "sessionId: String should match pattern"),
        ({"sessionId": "x", "text": "hi"}, "sessionId: String should have at least 2 characters"),
        ({"sessionId": "page-1", "text": "hi", "sessionAttributes": {"visits": 3}}, "sessionAttributes.visits:"),
        ({"sessionId": "page-1", "text": "hi", "requestAttributes": ["a"]}, "requestAttributes: Input should be"),
        ({"sessionId": "page-1", "text": "hi", "botId": "X"}, "botId: Extra inputs are not permitted"),
    ],
)
def test_bad_requests_are_400_json_errors(app: LocalApp, function: Function, body: Any, message: str) -> None:
    status, answer = post(app, "lex/turn", body)
    assert status == 400
    assert answer["error"]["code"] == "bad_request"
    assert answer["error"]["message"].startswith(message)
    assert function.events == []


def test_text_is_limited_like_recognize_text(app: LocalApp, function: Function) -> None:
    status, answer = post(app, "lex/turn", {"sessionId": "page-1", "text": "x" * (MAX_TEXT_CHARS + 1)})
    assert (status, answer["error"]["message"]) == (400, "text: at most 1024 characters (Lex V2 RecognizeText)")
    assert function.events == []
    longest = say(app, "x" * MAX_TEXT_CHARS)
    assert longest["dialogAction"] == {"type": "ElicitIntent"}  # the fallback intent answered


def test_reset_forgets_the_dialog(app: LocalApp) -> None:
    assert say(app, "book a flight")["dialogAction"]["slotToElicit"] == "DepartureCity"
    assert post(app, "lex/reset", {"sessionId": "page-1"}) == (200, {"sessionId": "page-1", "reset": True})
    after = say(app, "Seattle")  # no longer the answer to "Which city are you leaving from?"
    assert after["intent"] is None or after["intent"]["name"] != "BookFlight"
    assert post(app, "lex/reset", {"session": "page-1"})[0] == 400


def test_request_attributes_go_with_one_turn_and_session_attributes_stay(app: LocalApp, function: Function) -> None:
    say(app, "hello", sessionAttributes={"name": "Bo"}, requestAttributes={"channel": "web"})
    second = say(app, "hi")
    assert [e["requestAttributes"] for e in function.events] == [{"channel": "web"}] * 2 + [None] * 2
    assert second["sessionAttributes"]["name"] == "Bo"
    assert second["messages"][0]["content"] == "Hello, Bo! Welcome back, this is visit number 2."


def test_turns_of_one_session_are_played_one_at_a_time(app: LocalApp, function: Function) -> None:
    function.pause = 0.02
    with ThreadPoolExecutor(max_workers=4) as pool:
        turns = list(pool.map(lambda _: say(app, "hello", session="busy"), range(4)))
    assert function.most_at_once["busy"] == 1
    said = [t["messages"][0]["content"] for t in turns]
    visits = sorted(1 if "Nice to meet you" in text else int(text.rsplit(" ", 1)[-1].rstrip(".")) for text in said)
    assert visits == [1, 2, 3, 4]  # each turn saw the one before it


def test_the_least_recently_used_session_is_forgotten_over_the_cap(function: Function) -> None:
    tab = LexTab(LexConsole(LexSimulator(BOT, function)), max_sessions=2)
    app = cli.build_app(ChatApiGateway(NoChat()), table="t", lex=tab)
    say(app, "book a flight", session="s-1")
    say(app, "book a flight", session="s-2")
    say(app, "book a flight", session="s-3")
    assert set(tab.console.simulator.conversations) == {"s-2", "s-3"}
    assert say(app, "Seattle", session="s-3")["intent"]["slots"]["DepartureCity"] == "Seattle"


def test_a_failing_endpoint_is_a_json_500_and_the_app_keeps_answering(app: LocalApp, capsys) -> None:
    def broken(request: Request) -> tuple[int, Any]:
        raise RuntimeError(request.json()["text"])

    app.add_endpoint("POST", "broken", broken)
    status, answer = post(app, "broken", {"text": "a secret the user typed"})
    assert status == 500
    assert answer["error"]["code"] == "internal_error"
    err = capsys.readouterr().err
    assert "/_local/broken failed with RuntimeError" in err
    assert "secret" not in err
    assert say(app, "hello")["intent"]["name"] == "Greeting"


def test_an_invalid_or_failing_function_is_a_turn_with_problems_not_an_http_error() -> None:
    answers: list[Any] = [{"sessionState": {"dialogAction": {"type": "Close"}}}]  # no intent: Lex refuses it

    def function(event: dict[str, Any]) -> Any:
        if not answers:
            raise TimeoutError("the function timed out")
        return answers.pop()

    tab = LexTab(LexConsole(LexSimulator(BOT, function)))
    app = cli.build_app(ChatApiGateway(NoChat()), table="t", lex=tab)
    for expected in ("invalid Lambda response from the DialogCodeHook", "the DialogCodeHook invocation raised"):
        status, turn = post(app, "lex/turn", {"sessionId": "page-1", "text": "hello"})
        assert status == 200
        assert turn["dialogAction"] == {"type": "Error"}
        assert turn["problems"][0].startswith(expected)
