"""One profile for a verified user across the Lex bot and the chat API (local RSA key and JWKS)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import chat_app
import jwt
import pytest
from lex_bot.intents import router

from chatstate.attributes import SessionAttributes
from chatstate.chat.responders import EchoMemoryResponder
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex import LexRuntime
from chatstate.lex.profile_link import ProfileLink, shared_fields
from chatstate.models import SessionRef
from chatstate.profile import InMemoryProfileStore, Shared
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


def test_profile_values_the_bot_cannot_take_are_its_defaults(bot, profiles):
    profiles.merge(USER, {"language": "pt"})  # stored by another writer; the sample bot does not speak it
    response = assert_valid(bot.handle(signed(load_event("lex_greeting"), token(USER))))
    assert messages_text(response).startswith("Hello! ")  # not "Ana" (the client's), not a failure
    assert profiles.get(USER) == {"language": "pt"}


# -- shared fields belong to the identity that supplied them -------------------------------------------------
ALICE = "sub-alice"
BOB = "sub-bob"


def next_turn(name: str, credential: str | None, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The next event of the same Lex session: Lex sends back the session attributes the last answer set."""
    event = load_event(name)
    event["sessionState"]["originatingRequestId"] = uuid.uuid4().hex
    attributes = previous["sessionState"].get("sessionAttributes") if previous is not None else None
    if attributes is None:
        event["sessionState"].pop("sessionAttributes", None)
    else:
        event["sessionState"]["sessionAttributes"] = dict(attributes)
    return signed(event, credential)


def alice_greeted(bot, profiles) -> dict[str, Any]:
    profiles.merge(ALICE, {"name": "Alice", "language": "fr"})
    first = assert_valid(bot.handle(next_turn("lex_greeting", token(ALICE), None)))
    assert messages_text(first).startswith("Bonjour, Alice!")
    return first


@pytest.mark.parametrize("lex_echo", [True, False], ids=["lex-echoes-attributes", "client-sends-none"])
def test_the_next_signed_in_user_of_a_shared_lex_session_gets_only_their_own_profile(bot, profiles, lex_echo):
    first = alice_greeted(bot, profiles)
    response = assert_valid(bot.handle(next_turn("lex_greeting", token(BOB), first if lex_echo else None)))
    text = messages_text(response)
    assert text.startswith("Hello! ")  # Bob's profile is empty: no name, the default language
    assert "Alice" not in json.dumps(response)
    assert "name" not in response["sessionState"]["sessionAttributes"]


@pytest.mark.parametrize("lex_echo", [True, False], ids=["lex-echoes-attributes", "client-sends-none"])
def test_an_anonymous_user_after_a_signed_in_one_sees_nothing_of_theirs(bot, profiles, lex_echo):
    first = alice_greeted(bot, profiles)
    response = assert_valid(bot.handle(next_turn("lex_greeting", None, first if lex_echo else None)))
    assert messages_text(response).startswith("Hello! ")
    assert "Alice" not in json.dumps(response)
    later = assert_valid(bot.handle(next_turn("lex_greeting", None, response)))
    assert "Alice" not in json.dumps(later)


def test_an_anonymous_name_set_after_a_signed_in_user_left_is_kept(bot, profiles):
    first = alice_greeted(bot, profiles)
    anonymous = assert_valid(bot.handle(next_turn("lex_greeting", None, first)))
    event = next_turn("lex_greeting", None, anonymous)
    event["sessionState"]["sessionAttributes"]["name"] = "Ana"  # the anonymous client's own name
    assert messages_text(assert_valid(bot.handle(event))).startswith("Hello, Ana!")


def test_a_profile_field_cleared_through_the_api_is_absent_in_the_ongoing_lex_session(bot, chat, profiles):
    first = alice_greeted(bot, profiles)
    assert chat.request("PATCH", "/profile", actor=ALICE, body={"name": None}).status == 200
    response = assert_valid(bot.handle(next_turn("lex_greeting", token(ALICE), first)))
    assert messages_text(response).startswith("Bonjour! ")
    assert "Alice" not in json.dumps(response)


def test_the_durable_lex_session_keeps_no_shared_value_of_a_signed_in_user(bot, store, profiles):
    alice_greeted(bot, profiles)
    session = store.load(SessionRef.lex("CHATBOT01", "user-ana-0001"), last=0).session
    assert "Alice" not in json.dumps(session.state)
    assert ALICE not in json.dumps(session.state)  # the owner is recorded as a digest


def test_a_signed_token_whose_sub_has_a_control_character_is_refused_not_a_failure(bot, profiles):
    response = assert_valid(bot.handle(signed(load_event("lex_greeting"), token("alice\x00"))))
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert messages_text(response).startswith("Hello, Ana!")  # anonymous: the session's own name
    assert profiles.calls == []


def test_the_durable_lex_session_holds_no_token(bot, store):
    bot.handle(signed(load_event("lex_update_preferences_fulfillment"), credential := token(USER)))
    session = store.load(SessionRef.lex("CHATBOT01", "user-ana-0001"), last=10)
    assert credential not in session.model_dump_json()


# -- the chat API routes ---------------------------------------------------------------------------------
def test_get_profile_of_a_new_user_is_empty(chat):
    assert chat.request("GET", "/profile", actor="nobody").body == {"profile": {}}


def test_an_empty_patch_writes_nothing(chat, profiles, monkeypatch):
    writes: list[Any] = []
    original = profiles.props.merge_user_props
    monkeypatch.setattr(profiles.props, "merge_user_props", lambda *a, **k: writes.append(a) or original(*a, **k))
    assert chat.request("PATCH", "/profile", actor=USER, body={}).body == {"profile": {}}
    assert chat.request("PATCH", "/profile", actor=USER, body={"name": None}).body == {"profile": {}}
    assert writes == []
    chat.request("PATCH", "/profile", actor=USER, body={"name": "Bea"})
    assert chat.request("PATCH", "/profile", actor=USER, body={}).body == {"profile": {"name": "Bea"}}
    assert len(writes) == 1


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
        ({"language": "zz"}, "language"),
        ({"language": "pt"}, "language"),
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


def test_the_profile_holds_exactly_the_languages_the_bot_speaks():
    from lex_bot.attributes import Language

    from chatstate.profile import LANGUAGES

    assert sorted(LANGUAGES) == sorted(language.value for language in Language)


# -- a new person on a shared Lex session starts over -----------------------------------------------------------
class Recording(EchoMemoryResponder):
    """The built-in responder, recording the history each agent turn was given."""

    def __init__(self) -> None:
        super().__init__()
        self.histories: list[list[str]] = []

    def reply(self, session, history, message):
        self.histories.append([m.content for m in history])
        return super().reply(session, history, message)


@pytest.fixture
def agent_bot(store, profiles) -> tuple[LexRuntime[Any], Recording]:
    responder = Recording()
    link = ProfileLink(TokenVerifier(ISSUER, "testclient0123456789abcdef", fetch=FakeJwks()), profiles)
    return LexRuntime(
        router, store=store, now=fixed_now, profiles=link, responder=responder, history_turns=5
    ), responder


def alice_booked(bot) -> dict[str, Any]:
    """Alice, signed in on a kiosk's Lex session, books Seattle -> Boston and tells the agent a secret."""
    booked = assert_valid(bot.handle(next_turn("lex_book_flight_fulfillment", token(ALICE), None)))
    assert "Boston" in messages_text(booked)
    event = next_turn("lex_fallback", token(ALICE), booked)
    event["inputTranscript"] = "my passport number is X1234567"
    return assert_valid(bot.handle(event))


@pytest.mark.parametrize("who", ["another signed-in user", "an anonymous user"])
def test_the_next_person_on_a_shared_lex_session_sees_nothing_of_the_previous_ones_turns(agent_bot, who):
    bot, responder = agent_bot
    last = alice_booked(bot)
    credential = token(BOB) if who == "another signed-in user" else None
    event = next_turn("lex_fallback", credential, last)
    event["inputTranscript"] = "what do you know about me?"
    answer = assert_valid(bot.handle(event))
    assert responder.histories[-1] == []  # the agent gets none of Alice's messages
    everything = json.dumps(answer)
    assert "Boston" not in everything  # neither her booking (the built-in agent tells what the session holds)
    assert "X1234567" not in everything
    greeting = assert_valid(bot.handle(next_turn("lex_greeting", credential, answer)))
    assert "Nice to meet you" in messages_text(greeting)  # her visit count is not theirs either
    again = next_turn("lex_fallback", credential, greeting)
    again["inputTranscript"] = "and now?"
    bot.handle(again)
    assert "what do you know about me?" in responder.histories[-1]  # their own turns, from the switch on
    assert not any("X1234567" in text for text in responder.histories[-1])


def test_the_same_user_coming_back_keeps_their_session(agent_bot):
    bot, responder = agent_bot
    last = alice_booked(bot)
    event = next_turn("lex_fallback", token(ALICE), last)
    event["inputTranscript"] = "what do you know about me?"
    answer = assert_valid(bot.handle(event))
    assert "my passport number is X1234567" in responder.histories[-1]
    assert "Boston" in messages_text(answer)


def test_signing_in_during_an_anonymous_conversation_keeps_it(agent_bot):
    bot, _ = agent_bot
    booked = assert_valid(bot.handle(next_turn("lex_book_flight_fulfillment", None, None)))
    event = next_turn("lex_fallback", token(ALICE), booked)
    event["inputTranscript"] = "what do you know about me?"
    assert "Boston" in messages_text(assert_valid(bot.handle(event)))


def test_lex_accepts_a_non_cognito_oidc_issuer_configured_like_the_api(store, profiles):
    """TOKEN_ISSUER/TOKEN_AUDIENCE as the template sets them from JwtIssuer/JwtAudience; keys found by discovery."""
    from chatstate.identity import IdentitySettings
    from tests.tokens import private_key, served_idp

    with served_idp() as idp:
        settings = IdentitySettings.from_env({"TOKEN_ISSUER": idp.issuer, "TOKEN_AUDIENCE": "api://chat"})
        bot = LexRuntime(router, store=store, now=fixed_now, profiles=ProfileLink(settings.verifier(), profiles))
        profiles.merge("okta|00u1", {"name": "Olu", "language": "it"})
        claims = {"sub": "okta|00u1", "iss": idp.issuer, "aud": ["api://chat", "other"], "exp": 9_999_999_999}
        okta_token = jwt.encode(claims, private_key(), algorithm="RS256", headers={"kid": "test-key-1"})
        response = assert_valid(bot.handle(signed(load_event("lex_greeting"), okta_token)))
    assert messages_text(response).startswith("Ciao, Olu!")
