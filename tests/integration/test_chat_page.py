"""The chat page in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

Local mode runs against ``run-local serve`` (DynamoDB Local behind it); deployed mode runs against a stub of a
deployed API on another loopback port, which is how the page's bearer token, CORS and the 409/503 errors are
checked. A screenshot of the page is written to ``$CHATSTATE_ARTIFACTS`` (default ``.local/artifacts``).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devtools.template import REPO_ROOT
from tests.integration.local_server import Served, request, start_server

pytestmark = pytest.mark.integration

INSTALL_HINT = (
    "the chat page test needs Chromium and its matching ChromeDriver. Install them: "
    "Debian/Ubuntu 'sudo apt-get install chromium chromium-driver' | macOS 'brew install --cask chromium chromedriver' "
    "| or point CHROMIUM_BINARY and CHROMEDRIVER at a matching pair"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,860",
)
WAIT_S = 15
EMPTY = "\u2013"
"""What the page shows for a value it does not have (an en dash)."""


def chromium_paths() -> tuple[str, str]:
    """(browser, driver) from $CHROMIUM_BINARY/$CHROMEDRIVER or the PATH; fails with what to install."""
    browser = os.environ.get("CHROMIUM_BINARY") or next(
        (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver or not Path(browser).is_file() or not Path(driver).is_file():
        pytest.fail(INSTALL_HINT, pytrace=False)
    return browser, driver


def artifacts_dir() -> Path:
    path = Path(os.environ.get("CHATSTATE_ARTIFACTS") or REPO_ROOT / ".local" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    binary, driver_path = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # An explicit driver path: Selenium Manager never runs (it would try to download a browser and driver).
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("page") / "local")
    try:
        yield server
    finally:
        server.stop()


# --- page helpers --------------------------------------------------------------------------------------------------


def wait(driver: Any, condition: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(lambda d: condition(d), message=what)


def el(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def text(driver: Any, element_id: str) -> str:
    return str(el(driver, element_id).text)


def messages(driver: Any) -> list[tuple[str, str]]:
    """(role class, content without the meta line) of every message shown, top to bottom."""
    from selenium.webdriver.common.by import By

    shown = []
    for li in driver.find_elements(By.CSS_SELECTOR, "#messages li:not(.empty)"):
        content = driver.execute_script("return arguments[0].lastChild.textContent", li)
        shown.append((li.get_attribute("class"), content))
    return shown


def error_shown(driver: Any) -> str:
    box = el(driver, "error")
    return str(box.text) if box.is_displayed() else ""


def set_value(driver: Any, element_id: str, value: str) -> None:
    driver.execute_script(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
        "e.dispatchEvent(new Event('input', {bubbles: true}));",
        element_id,
        value,
    )


def click(driver: Any, element_id: str) -> None:
    wait(driver, lambda d: el(d, element_id).is_enabled(), f"#{element_id} enabled")
    el(driver, element_id).click()


def send(driver: Any, message: str) -> None:
    set_value(driver, "compose", message)
    click(driver, "send")


# --- local mode ----------------------------------------------------------------------------------------------------


def test_chat_page_against_the_local_server(browser: Any, served: Served) -> None:
    driver = browser
    driver.get(f"{served.url}/")
    assert driver.title == "chatstate"
    wait(driver, lambda d: "local server" in text(d, "status"), "the page found the local server")
    assert not error_shown(driver)

    # start a session, with an initial state
    set_value(driver, "new-state", "{not json")
    click(driver, "new-session")
    wait(driver, lambda d: error_shown(d).startswith("state: not valid JSON"), "bad JSON refused in the page")
    set_value(driver, "new-state", '{"plan": "pro", "topic": "trip to Rome"}')
    click(driver, "new-session")
    wait(driver, lambda d: text(d, "session-id") not in ("", EMPTY), "a session id")
    session_id = text(driver, "session-id")
    assert text(driver, "message-count") == "0"
    assert json.loads(text(driver, "session-state")) == {"plan": "pro", "topic": "trip to Rome"}
    wait(driver, lambda d: "No messages yet." in text(d, "messages"), "an empty history")

    # send messages; the count and state come from the API
    send(driver, "Hello, I am Alice")
    wait(driver, lambda d: len(messages(d)) == 2, "the message and the reply")
    send(driver, "What is my name?")
    wait(driver, lambda d: len(messages(d)) == 4, "the second exchange")
    status, view, _ = request(f"{served.url}/sessions/{session_id}")
    assert status == 200
    wait(driver, lambda d: text(d, "message-count") == str(view["message_count"]), "the API's message count")
    shown = messages(driver)
    assert shown[0] == ("user", "Hello, I am Alice")
    assert shown[1][0] == "assistant"
    assert shown[1][1]

    # the TTL counts down, live
    first = text(driver, "ttl")
    assert "min" in first
    wait(driver, lambda d: text(d, "ttl") != first, "the TTL countdown to tick")

    screenshot = artifacts_dir() / "chat_page.png"
    driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000

    # page back through history: 22 messages, pages of 20
    for i in range(9):
        assert request(f"{served.url}/sessions/{session_id}/messages", "POST", {"message": f"turn {i}"})[0] == 200
    click(driver, "refresh")
    wait(driver, lambda d: len(messages(d)) == 20 and el(d, "older").is_displayed(), "the newest page")
    assert messages(driver)[-1][0] == "assistant"
    click(driver, "older")
    wait(driver, lambda d: len(messages(d)) == 22, "the older page on top")
    assert messages(driver)[0] == ("user", "Hello, I am Alice")
    assert not el(driver, "older").is_displayed()

    # resume by id in a fresh page
    driver.get(f"{served.url}/")
    set_value(driver, "resume-id", session_id)
    click(driver, "resume")
    wait(driver, lambda d: text(d, "session-id") == session_id and len(messages(d)) == 20, "the resumed session")

    # errors, as the API reports them (an oversize message is refused in the page: Send is disabled)
    set_value(driver, "compose", "x" * 4001)
    assert not el(driver, "send").is_enabled()
    set_value(driver, "compose", "")
    set_value(driver, "actor", "")
    click(driver, "refresh")
    wait(driver, lambda d: error_shown(d).startswith("401"), "401 shown")
    set_value(driver, "actor", "mallory")
    set_value(driver, "resume-id", session_id)
    click(driver, "resume")
    wait(driver, lambda d: error_shown(d).startswith("404 not_found"), "another actor's session is a 404")
    set_value(driver, "actor", "alice")
    click(driver, "resume")
    wait(driver, lambda d: text(d, "session-id") == session_id and not error_shown(d), "the error clears")

    # delete
    click(driver, "delete-session")
    wait(driver, lambda d: text(d, "session-id") == EMPTY, "the session is gone from the page")
    assert request(f"{served.url}/sessions/{session_id}")[0] == 404

    log = served.output()
    assert f"POST   /sessions/{session_id}/messages  200" in log
    assert "GET    /  200" in log
    assert "Warning" not in served.errors()


# --- deployed mode (a stub API on another loopback port) -----------------------------------------------------------


class StubApi(ThreadingHTTPServer):
    """Stands in for a deployed ChatApi: CORS like the template, canned answers, records what it was sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.seen: list[tuple[str, str, str | None, str | None]] = []
        self.sends = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StubHandler(BaseHTTPRequestHandler):
    server: StubApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("access-control-allow-origin", "*")
        self.send_header("access-control-expose-headers", "retry-after")  # as ChatApi's CorsConfiguration
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_OPTIONS(self) -> None:
        self._answer(
            204,
            headers={
                "access-control-allow-methods": "GET,POST,DELETE,OPTIONS",
                "access-control-allow-headers": "authorization,content-type",
            },
        )

    def _route(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append(
            (self.command, self.path, self.headers.get("authorization"), self.headers.get("x-local-actor"))
        )
        if self.headers.get("authorization") != "Bearer t0ken-xyz":
            return self._answer(401, {"message": "Unauthorized"})
        expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        view = {"session_id": "remote-1", "created_at": expires, "updated_at": expires, "expires_at": expires}
        if self.command == "POST" and self.path == "/sessions":
            return self._answer(201, view)
        if self.command == "GET" and self.path == "/sessions/remote-1":
            return self._answer(200, {**view, "message_count": 0, "state": {"plan": "remote"}})
        if self.command == "GET" and self.path.startswith("/sessions/remote-1/messages"):
            return self._answer(200, {"messages": [], "next_cursor": None})
        if self.command == "POST" and self.path == "/sessions/remote-1/messages":
            self.server.sends += 1
            if self.server.sends == 1:
                return self._answer(409, {"error": {"code": "conflict", "message": "the session changed; retry"}})
            return self._answer(
                503, {"error": {"code": "unavailable", "message": "storage is busy"}}, {"Retry-After": "2"}
            )
        return self._answer(404, {"message": "Not Found"})

    do_GET = do_POST = do_DELETE = _route


@pytest.fixture
def stub_api() -> Iterator[StubApi]:
    stub = StubApi()
    thread = threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.shutdown()
        stub.server_close()


def test_chat_page_against_a_deployed_api_with_a_pasted_token(browser: Any, served: Served, stub_api: StubApi) -> None:
    driver = browser
    driver.get(f"{served.url}/")
    click(driver, "target-remote")
    assert not el(driver, "actor").is_displayed()
    set_value(driver, "api-url", stub_api.url + "/")
    set_value(driver, "api-token", "t0ken-xyz")
    click(driver, "new-session")
    wait(driver, lambda d: text(d, "session-id") == "remote-1", "the deployed API's session")
    assert '"plan": "remote"' in text(driver, "session-state")

    send(driver, "hello")
    wait(driver, lambda d: error_shown(d).startswith("409 conflict: the session changed"), "409 shown")
    send(driver, "hello again")
    wait(driver, lambda d: error_shown(d) == "503 unavailable: storage is busy (retry after 2 s)", "503 shown")
    driver.save_screenshot(str(artifacts_dir() / "chat_page_deployed_api_503.png"))

    assert {auth for _, _, auth, _ in stub_api.seen} == {"Bearer t0ken-xyz"}
    assert {actor for _, _, _, actor in stub_api.seen} == {None}  # the local-only header never leaves the machine
    stored = driver.execute_script(
        "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie,"
        " location.href])"
    )
    assert "t0ken-xyz" not in stored


# --- the Lex tab (the local Lex V2 simulator playing ChatBot from template.yaml) -----------------------------------


def lex_turns(driver: Any) -> list[dict[str, Any]]:
    """What the page shows for each Lex turn: the utterance, the bot's messages and the turn's state line."""
    return list(
        driver.execute_script(
            """return Array.from(document.querySelectorAll('#lex-turns li.lex-turn'), (li) => ({
                 user: li.querySelector('p.user').textContent,
                 bot: Array.from(li.querySelectorAll('p.bot'), (p) => p.textContent).join(' '),
                 action: li.querySelector('.lex-action').textContent,
                 intent: li.querySelector('.lex-intent').textContent,
                 slots: Array.from(li.querySelectorAll('.lex-slots .slot'), (s) => s.textContent),
                 attrs: li.querySelector('.lex-attrs').textContent,
                 problems: Array.from(li.querySelectorAll('.lex-problems li'), (p) => p.textContent),
                 inspect: Array.from(li.querySelectorAll('.lex-inspect li'), (i) => i.textContent),
               }));"""
        )
    )


def lex_say(driver: Any, utterance: str) -> dict[str, Any]:
    """Type an utterance and press Enter, as a user would; the turn the page then shows."""
    from selenium.webdriver.common.keys import Keys

    before = len(lex_turns(driver))
    box = el(driver, "lex-utterance")
    wait(driver, lambda d: box.is_enabled() and el(d, "lex-send").is_enabled(), "the Lex tab ready for input")
    box.clear()
    box.send_keys(utterance, Keys.ENTER)
    wait(driver, lambda d: len(lex_turns(d)) == before + 1, f"the bot's answer to {utterance!r}")
    turn = lex_turns(driver)[-1]
    assert turn["user"] == utterance
    assert turn["problems"] == []
    assert not error_shown(driver)
    return turn


def lex_attributes(driver: Any) -> dict[str, str]:
    """The session attributes panel."""
    return dict(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('#lex-attributes dt'), (dt) =>"
            " [dt.textContent, dt.nextElementSibling.textContent]);"
        )
    )


def test_the_lex_tab_plays_the_sample_bot(browser: Any, served: Served) -> None:
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get("about:blank")  # a fresh page, not a fragment change of the one the last test left
    driver.get(f"{served.url}/#lex")
    wait(driver, lambda d: "Greeting, BookFlight" in text(d, "lex-bot"), "the bot the server plays")
    assert not el(driver, "chat").is_displayed()
    assert text(driver, "lex-count") == "0 / 1,024"  # RecognizeText's limit, from the server
    assert driver.switch_to.active_element == el(driver, "lex-utterance")  # ready to type
    session_id = text(driver, "lex-session-id")

    # greeting, with a session attribute a client set
    set_value(driver, "lex-session-attrs", '{"name": "Ana"}')
    hello = lex_say(driver, "hello")
    assert hello["bot"] == "Hello, Ana! Nice to meet you. I can book flights and remember your preferences."
    assert (hello["action"], hello["intent"]) == ("action Close", "intent Greeting (Fulfilled)")
    assert "name=Ana" in hello["attrs"]
    assert lex_attributes(driver)["name"] == "Ana"
    assert el(driver, "lex-session-attrs").get_attribute("value") == ""  # sent once, now in the session

    # a booking with a validation error: the same city twice is re-elicited
    start = lex_say(driver, "I want to book a flight")
    assert start["bot"] == "Which city are you leaving from?"
    assert start["action"] == "action ElicitSlot · DepartureCity"
    assert start["intent"] == "intent BookFlight (InProgress)"
    assert start["slots"] == ["DepartureCity", "ArrivalCity", "DepartureDate"]
    assert lex_say(driver, "Seattle")["slots"] == ["DepartureCity = Seattle", "ArrivalCity", "DepartureDate"]
    same = lex_say(driver, "Seattle")
    assert same["bot"] == "You are already in Seattle. Where would you like to fly to?"
    assert same["action"] == "action ElicitSlot · ArrivalCity"
    assert lex_say(driver, "Boston")["bot"] == "On which date do you want to fly to Boston?"
    booked = lex_say(driver, "tomorrow")
    assert booked["action"] == "action Close"
    assert booked["intent"] == "intent BookFlight (Fulfilled)"
    departure = booked["slots"][2].removeprefix("DepartureDate = ")
    assert booked["slots"][:2] == ["DepartureCity = Seattle", "ArrivalCity = Boston"]
    assert booked["bot"] == f"Your flight from Seattle to Boston on {departure} is booked."
    hooks = ["DialogCodeHook (BookFlight) → Delegate", "FulfillmentCodeHook (BookFlight) → Close"]
    assert booked["inspect"][:2] == hooks
    assert '"arrival_city":"Boston"' in lex_attributes(driver)["lastBooking"]

    # a preference change: an unknown language is re-elicited, then used by the next greeting
    klingon = lex_say(driver, "set my language to klingon")
    assert klingon["action"] == "action ElicitSlot · Language"
    assert klingon["bot"].startswith("Sorry, I can't speak that language yet.")
    french = lex_say(driver, "French")
    assert french["bot"] == "Done. I'll speak French with you from now on."
    assert french["slots"] == ["Language = French"]
    assert 'language="fr"' in french["attrs"]
    assert lex_say(driver, "hi")["bot"].startswith("Bonjour, Ana!")

    # the fallback intent: the agent answers from the session (name, last booking)
    fallback = lex_say(driver, "what do you know about me")
    assert (fallback["action"], fallback["intent"]) == ("action ElicitIntent", "intent none")
    assert "your name is Ana" in fallback["bot"]
    assert "your last booking is Seattle → Boston" in fallback["bot"]
    assert fallback["inspect"][0] == "FulfillmentCodeHook (FallbackIntent) → ElicitIntent"
    driver.execute_script(
        "document.querySelector('#lex-turns li.lex-turn:last-child .lex-inspect').open = true;"
        "const list = document.getElementById('lex-turns'); list.scrollTop = list.scrollHeight;"
    )
    assert text(driver, "lex-turn-count") == "10"
    screenshot = artifacts_dir() / "lex_tab.png"
    driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000

    # the Lex function keeps its session in the server's DynamoDB Local, next to the chat sessions
    from devtools.dynamodb_local import local_client

    state = json.loads((served.state_dir / "server.json").read_text())
    items = local_client(state["dynamodb_endpoint"]).scan(TableName=state["table"])["Items"]
    assert any(session_id in item["pk"]["S"] for item in items)

    # what Lex refuses, and what the page refuses, shown in the page
    set_value(driver, "lex-utterance", "x" * 1025)
    assert "over" in el(driver, "lex-count").get_attribute("class")
    el(driver, "lex-utterance").send_keys(Keys.ENTER)
    wait(driver, lambda d: error_shown(d).startswith("400 bad_request: text: at most 1024 characters"), "400 shown")
    set_value(driver, "lex-session-attrs", "{name: Ana}")
    el(driver, "lex-utterance").send_keys(Keys.ENTER)
    wait(driver, lambda d: error_shown(d).startswith("session attributes: not valid JSON"), "bad JSON refused")
    set_value(driver, "lex-session-attrs", "")
    assert len(lex_turns(driver)) == 10

    # a new session forgets the dialog and the attributes
    click(driver, "lex-new-session")
    wait(driver, lambda d: text(d, "lex-session-id") != session_id and not lex_turns(d), "a new Lex session")
    assert lex_say(driver, "hello")["bot"].startswith("Hello! Nice to meet you.")
    assert "name" not in lex_attributes(driver)

    log = served.output()
    assert "POST   /_local/lex/turn  200" in log
    assert "POST   /_local/lex/turn  400" in log
    assert "POST   /_local/lex/reset  200" in log
    assert "Traceback" not in served.errors()


# --- the page around a session: what a first visit shows -------------------------------------------------------------


def js(driver: Any, script: str) -> Any:
    return driver.execute_script(script)


def test_the_page_says_what_to_do_and_counts_as_the_api_does(browser: Any, served: Served) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get("about:blank")
    driver.get(f"{served.url}/")
    wait(driver, lambda d: "local server" in text(d, "status"), "the page found the local server")

    # before a session: the conversation pane says what to do, Send is off
    assert "No session yet: start one with New session" in text(driver, "messages")
    assert not el(driver, "send").is_enabled()
    label = driver.find_element(By.CSS_SELECTOR, "#session dt[title^='message_count']")
    assert label.text == "your messages"

    # three exchanges: the count is the user's messages, as the API and the built-in responder say
    click(driver, "new-session")
    wait(driver, lambda d: "No messages yet." in text(d, "messages"), "a session")
    assert not el(driver, "send").is_enabled()  # nothing typed yet
    send(driver, "hello")
    wait(driver, lambda d: len(messages(d)) == 2, "the first exchange")
    metas = js(driver, "return Array.from(document.querySelectorAll('#messages li .meta'), (m) => m.textContent)")
    assert metas[0].startswith("user · ")  # fresh messages carry sender and time, as reloaded ones do
    assert metas[1].startswith("assistant · ")
    send(driver, "my name is Alice")
    wait(driver, lambda d: len(messages(d)) == 4, "the second exchange")
    send(driver, "how many messages have I sent?")
    wait(driver, lambda d: len(messages(d)) == 6 and text(d, "message-count") == "3", "three exchanges, count 3")
    assert messages(driver)[-1][1] == "You have sent 3 messages in this conversation, this one included."
    driver.save_screenshot(str(artifacts_dir() / "chat_page_counts.png"))

    # an oversize message: the counter says so and Send is off until it fits
    set_value(driver, "compose", "x" * 4001)
    assert "over" in el(driver, "compose-count").get_attribute("class")
    assert not el(driver, "send").is_enabled()
    set_value(driver, "compose", "x" * 4000)
    assert el(driver, "send").is_enabled()
    set_value(driver, "compose", "")

    # the Lex tab: chat-only controls hidden, values wrap between words, one scrollbar however long the talk
    assert el(driver, "target").is_displayed()
    driver.find_element(By.CSS_SELECTOR, "#tabs [data-tab='lex']").click()
    wait(driver, lambda d: el(d, "lex-utterance").is_enabled(), "the Lex tab ready")
    assert not el(driver, "target").is_displayed()
    for i in range(6):
        lex_say(driver, "hello" if i % 2 else "book a flight")  # "hello" while a city is asked for: a greeting
    for said in ("change my language", "klingon", "elvish"):
        lex_say(driver, said)
    stuck = js(driver, "return document.querySelector('#lex-turns li:last-child .lex-stuck').textContent")
    assert stuck.startswith("Language of UpdatePreferences asked for 3 times")
    assert "New session" in stuck
    breaks = js(
        driver,
        "return Array.from(document.querySelectorAll('#lex dd, #lex code'), (e) => getComputedStyle(e).wordBreak)",
    )
    assert breaks
    assert set(breaks) == {"normal"}
    json_values = js(driver, "return document.querySelectorAll('#lex-attributes dd wbr').length")
    assert json_values > 0  # JSON values may wrap after a comma or a colon, between words
    sizes = js(
        driver,
        "const t = document.getElementById('lex-turns'); return [document.scrollingElement.scrollHeight,"
        " window.innerHeight, t.scrollHeight, t.clientHeight];",
    )
    page_height, window_height, turns_height, turns_visible = sizes
    assert page_height <= window_height  # the page itself does not scroll
    assert turns_height > turns_visible  # the conversation does
    driver.find_element(By.CSS_SELECTOR, "#tabs [data-tab='chat']").click()
    assert el(driver, "target").is_displayed()


# --- the conversation sidebar and "your data" (conversations.js) ------------------------------------------------------


def conversation_titles(driver: Any) -> list[str]:
    """The listed titles, top to bottom (read in one script: the list may be redrawn at any moment)."""
    script = "return [...document.querySelectorAll('#conversation-list .conversation-title')].map((e) => e.textContent)"
    return list(driver.execute_script(script))


def conversation_item(driver: Any, session_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'#conversation-list li[data-session-id="{session_id}"]')


def click_in(driver: Any, session_id: str, css: str) -> None:
    """Click ``css`` inside a conversation's list item, finding it again if the list was redrawn meanwhile."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def attempt(d: Any) -> bool:
        try:
            conversation_item(d, session_id).find_element(By.CSS_SELECTOR, css).click()
        except (StaleElementReferenceException, NoSuchElementException):
            return False
        return True

    wait(driver, attempt, f"{css} of {session_id} clicked")


def test_the_conversation_sidebar_lists_renames_deletes_exports_and_erases(browser: Any, served: Served) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, actor = browser, "carol"
    ids = []
    for n in range(23):  # more than one page of 20
        status, created, _ = request(f"{served.url}/sessions", "POST", {}, actor=actor)
        assert status == 201
        ids.append(created["session_id"])
        sent = request(f"{served.url}/sessions/{ids[-1]}/messages", "POST", {"message": f"topic {n}"}, actor=actor)
        assert sent[0] == 200
    driver.get(f"{served.url}/")
    wait(driver, lambda d: "local server" in text(d, "status"), "the page found the local server")
    driver.execute_script(
        "const e = document.getElementById('actor'); e.value = arguments[0];"
        "e.dispatchEvent(new Event('change', {bubbles: true}));",
        actor,
    )

    # the newest 20, newest first, with titles and relative times; More pages on
    wait(driver, lambda d: len(conversation_titles(d)) == 20, "the first page of conversations")
    assert conversation_titles(driver)[:2] == ["topic 22", "topic 21"]
    assert driver.find_element(By.CSS_SELECTOR, "#conversation-list time").text == "just now"
    click(driver, "conversations-more")
    wait(driver, lambda d: len(conversation_titles(d)) == 23, "the second page appended")
    assert conversation_titles(driver)[-1] == "topic 0"
    assert not el(driver, "conversations-more").is_displayed()

    # open one from the list
    click_in(driver, ids[0], ".conversation-open")
    wait(driver, lambda d: text(d, "session-id") == ids[0] and len(messages(d)) == 2, "the conversation opened")
    current = "return document.querySelector(`li[data-session-id='${arguments[0]}']`)?.classList.contains('current')"
    wait(driver, lambda d: d.execute_script(current, ids[0]), "marked current")

    # a new session is listed at once, untitled; its first message titles it
    click(driver, "new-session")
    wait(driver, lambda d: text(d, "session-id") not in (ids[0], EMPTY), "a new session")
    fresh = text(driver, "session-id")
    wait(driver, lambda d: conversation_titles(d)[:1] == ["Untitled conversation"], "the new session on top")
    send(driver, "Plan a trip to Rome in May")
    wait(driver, lambda d: conversation_titles(d)[:1] == ["Plan a trip to Rome in May"], "titled by its first message")

    # rename in place
    click_in(driver, fresh, ".conversation-rename")
    box = conversation_item(driver, fresh).find_element(By.CSS_SELECTOR, "input.conversation-title-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Rome 2027", Keys.ENTER)
    wait(driver, lambda d: conversation_titles(d)[:1] == ["Rome 2027"], "the new title in place")
    listed = request(f"{served.url}/sessions?limit=1", actor=actor)[1]["sessions"][0]
    assert (listed["session_id"], listed["title"]) == (fresh, "Rome 2027")
    driver.save_screenshot(str(artifacts_dir() / "chat_page_sidebar.png"))

    # delete in place, after a confirmation
    click_in(driver, ids[5], ".conversation-delete")
    click_in(driver, ids[5], ".conversation-confirm-no")
    assert request(f"{served.url}/sessions/{ids[5]}", actor=actor)[0] == 200
    click_in(driver, ids[5], ".conversation-delete")
    click_in(driver, ids[5], ".conversation-confirm-yes")
    wait(driver, lambda d: "topic 5" not in conversation_titles(d), "the deleted conversation leaves the list")
    assert request(f"{served.url}/sessions/{ids[5]}", actor=actor)[0] == 404

    # export my data: one JSON download of every page
    driver.find_element(By.CSS_SELECTOR, "#data-settings summary").click()
    click(driver, "export-data")
    wait(driver, lambda d: el(d, "export-link").is_displayed(), "the download link")
    exported = json.loads(
        driver.execute_async_script(
            "const done = arguments[0]; fetch(document.getElementById('export-link').href)"
            ".then((r) => r.text()).then(done);"
        )
    )
    assert len(exported["sessions"]) == 23
    rome = next(s for s in exported["sessions"] if s["session_id"] == fresh)
    assert rome["title"] == "Rome 2027"
    assert rome["messages"][0]["content"] == "Plan a trip to Rome in May"
    assert el(driver, "export-link").get_attribute("download").endswith(".json")

    # erase me: a confirmation, then a receipt, and nothing is left
    click(driver, "erase-me")
    wait(driver, lambda d: el(d, "erase-confirm").is_displayed(), "the confirmation")
    click(driver, "erase-confirm-no")
    assert len(request(f"{served.url}/sessions", actor=actor)[1]["sessions"]) == 20
    click(driver, "erase-me")
    click(driver, "erase-confirm-yes")
    wait(driver, lambda d: el(d, "erase-receipt").is_displayed(), "the receipt")
    assert "sessions: 23" in text(driver, "erase-receipt")
    wait(driver, lambda d: "No conversations yet." in text(d, "conversation-list"), "an empty list")
    assert text(driver, "session-id") == EMPTY
    assert request(f"{served.url}/sessions", actor=actor)[1] == {"sessions": [], "next_cursor": None}
    assert request(f"{served.url}/me/export", actor=actor)[1]["sessions"] == []
    driver.save_screenshot(str(artifacts_dir() / "chat_page_conversations.png"))
