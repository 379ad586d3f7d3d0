"""One profile for a verified user across the Lex bot and the chat API (local RSA key and JWKS)."""

from __future__ import annotations

import json
from typing import Any

import chat_app
import pytest
from lex_bot.intents import router

from chatstate.attributes import SessionAttributes
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex import LexRuntime
from chatstate.lex.profile_link import ProfileLink, shared_fields
from chatstate.models import SessionRef
from chatstate.profile.memory import InMemoryProfileStore
from chatstate.profile.model import Shared
from chatstate.store.memory import InMemorySessionStore
from tests.lexkit import assert_valid, dialog_action, fixed_now, load_event, messages_text
from tests.tokens import ISSUER, FakeJwks, token
from tests.unit.chat_support import ChatHarness

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

USER = "0f3b6c9e-user-sub-1"


class SpyProfiles(InMemoryProfileStore):
    """The in-memory twin, counting every read and write."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def get(self, subject: str) -> dict[str, Any]:
        self.calls.append(f"get {subject}")
        return super().get(subject)

    def merge(self, subject: str, fields: Any) -> dict[str, Any]:
        self.calls.append(f"merge {subject}")
        return super().merge(subject, fields)


@pytest.fixture
def profiles() -> SpyProfiles:
    return SpyProfiles()


@pytest.fixture
def chat(profiles):
    harness = ChatHarness()
    harness.use(harness.responder, profiles=profiles)
    yield harness
    chat_app.configure()


@pytest.fixture
def store() -> InMemorySessionStore:
    return InMemorySessionStore()


@pytest.fixture
def bot(store, profiles) -> LexRuntime[Any]:
    link = ProfileLink(TokenVerifier(ISSUER, "testclient0123456789abcdef", fetch=FakeJwks()), profiles)
    return LexRuntime(router, store=store, now=fixed_now, profiles=link)


def signed(event: dict[str, Any], credential: str | None) -> dict[str, Any]:
    if credential is not None:
        event["requestAttributes"] = {TOKEN_REQUEST_ATTRIBUTE: credential, "x-amz-lex:channel": "web"}
    return event


def test_language_set_in_lex_is_what_get_profile_returns(bot, chat):
    response = assert_valid(bot.handle(signed(load_event("lex_update_preferences_fulfillment"), token(USER))))
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    result = chat.request("GET", "/profile", actor=USER)
    assert result.status == 200
    assert result.body == {"profile": {"language": "es"}}
    assert "requestAttributes" not in response  # the token is never echoed
    assert TOKEN_REQUEST_ATTRIBUTE not in json.dumps(response)


def test_patched_name_is_what_the_next_lex_greeting_says(bot, chat):
    patched = chat.request("PATCH", "/profile", actor=USER, body={"name": "Bea", "language": "fr"})
    assert patched.status == 200
    assert patched.body == {"profile": {"name": "Bea", "language": "fr"}}
    greeting = signed(load_event("lex_greeting"), token(USER, use="access"))  # sessionAttributes say "Ana"
    response = assert_valid(bot.handle(greeting))
    assert messages_text(response).startswith("Bonjour, Bea!")
    assert response["sessionState"]["sessionAttributes"]["name"] == "Bea"


@pytest.mark.parametrize(
    "credential",
    [
        None,
        "",
        token(USER, key="forger"),
        token(USER, expires_in=-300),
        token(USER, issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Foreign"),
        token(USER, audience="another-app-client"),
    ],
    ids=["none", "empty", "forged", "expired", "foreign-pool", "other-client"],
)
def test_no_or_bad_token_changes_nothing_and_reads_nothing(bot, chat, profiles, credential):
    profiles.merge(USER, {"name": "Bea", "language": "de"})
    profiles.calls.clear()
    greeting = assert_valid(bot.handle(signed(load_event("lex_greeting"), credential)))
    assert messages_text(greeting).startswith("Hello, Ana!")  # the anonymous session's name, not the profile's
    update = assert_valid(bot.handle(signed(load_event("lex_update_preferences_fulfillment"), credential)))
    assert dialog_action(update) == "Close"
    assert profiles.calls == []
    assert chat.request("GET", "/profile", actor=USER).body == {"profile": {"name": "Bea", "language": "de"}}


def test_a_verified_turn_that_changes_nothing_shared_writes_nothing(bot, profiles):
    bot.handle(signed(load_event("lex_book_flight_fulfillment"), token(USER)))
    assert profiles.calls == [f"get {USER}"]


def test_profile_values_the_bot_cannot_take_are_skipped(bot, profiles):
    profiles.merge(USER, {"language": "pt"})  # a valid profile language the sample bot does not speak
    response = assert_valid(bot.handle(signed(load_event("lex_greeting"), token(USER))))
    assert messages_text(response).startswith("Hello, Ana!")
    assert profiles.get(USER) == {"language": "pt"}


def test_the_durable_lex_session_holds_no_token(bot, store):
    bot.handle(signed(load_event("lex_update_preferences_fulfillment"), credential := token(USER)))
    session = store.load(SessionRef.lex("CHATBOT01", "user-ana-0001"), last=10)
    assert credential not in session.model_dump_json()


# -- the chat API routes ---------------------------------------------------------------------------------
def test_get_profile_of_a_new_user_is_empty(chat):
    assert chat.request("GET", "/profile", actor="nobody").body == {"profile": {}}


def test_patch_merges_and_null_clears(chat):
    chat.request("PATCH", "/profile", actor=USER, body={"name": "Bea"})
    assert chat.request("PATCH", "/profile", actor=USER, body={"language": "it"}).body == {
        "profile": {"name": "Bea", "language": "it"}
    }
    assert chat.request("PATCH", "/profile", actor=USER, body={"name": None}).body == {"profile": {"language": "it"}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nickname": "B"}, "nickname"),
        ({"name": 7}, "name"),
        ({"language": "French"}, "language"),
        ({"name": ""}, "name"),
        ([], "body"),
    ],
)
def test_unknown_or_mistyped_fields_are_400_and_change_nothing(chat, profiles, body, field):
    result = chat.request("PATCH", "/profile", actor=USER, body=body)
    assert result.status == 400
    assert result.error_code == "bad_request"
    assert field in result.error_message
    assert profiles.get(USER) == {}


def test_profile_routes_need_an_identity(chat):
    assert chat.request("GET", "/profile", actor=None).status == 401
    assert chat.request("PATCH", "/profile", actor=None, body={"name": "x"}).status == 401


def test_profiles_are_per_caller(chat):
    chat.request("PATCH", "/profile", actor="alice", body={"name": "Alice"})
    assert chat.request("GET", "/profile", actor="mallory").body == {"profile": {}}


def test_an_undeclared_method_on_profile_is_404(chat):
    result = chat.request("DELETE", "/profile", actor=USER)
    assert result.status == 404


# -- declaring shared fields -------------------------------------------------------------------------------
def test_shared_fields_must_be_profile_fields():
    from typing import Annotated

    class Good(SessionAttributes):
        name: Annotated[str | None, Shared()] = None

    class Bad(SessionAttributes):
        shoe_size: Annotated[int, Shared()] = 0

    assert shared_fields(Good) == ("name",)
    with pytest.raises(TypeError, match="shoe_size"):
        shared_fields(Bad)


class ConflictOnce(InMemorySessionStore):
    """Another turn wins the first save: the runtime must re-run the turn on the fresh state."""

    def __init__(self) -> None:
        super().__init__()
        self.conflicts = 0

    def append(self, ref, messages, **kwargs):
        if self.conflicts == 0:
            self.conflicts += 1
            from chatstate.exceptions import StaleState

            raise StaleState(self.get(ref))
        return super().append(ref, messages, **kwargs)


def test_a_rerun_turn_verifies_and_reads_the_profile_once(profiles):
    sessions = ConflictOnce()
    link = ProfileLink(TokenVerifier(ISSUER, "testclient0123456789abcdef", fetch=FakeJwks()), profiles)
    bot = LexRuntime(router, store=sessions, now=fixed_now, profiles=link)
    response = assert_valid(bot.handle(signed(load_event("lex_update_preferences_fulfillment"), token(USER))))
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert sessions.conflicts == 1  # the turn ran twice
    assert profiles.calls == [f"get {USER}", f"merge {USER}"]  # one read, one merge of the saved run
