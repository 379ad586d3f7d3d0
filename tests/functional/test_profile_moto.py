"""Functional: one profile across lex_app and chat_app on DynamoDB (moto), tokens checked against a loopback JWKS."""

from __future__ import annotations

from collections.abc import Iterator

import chat_app
import lex_app
import pytest

from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE
from devtools.template import create_session_table
from tests.lexkit import assert_valid, lex_context, load_event, messages_text
from tests.tokens import CLIENT_ID, ISSUER, served_jwks, token
from tests.unit.chat_support import call, http_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TABLE = "crossover-sessions"
USER = "5e1d-verified-user"


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """The pool's JWKS, served on 127.0.0.1 (``TOKEN_JWKS_URL`` points the verifier here)."""
    with served_jwks() as (url, fetched):
        yield url
    assert len(fetched) == 1  # fetched once per execution environment, then cached


@pytest.fixture
def stack(fake_aws_env, moto_dynamodb, jwks_url, monkeypatch):
    monkeypatch.setenv("SESSION_TABLE_NAME", TABLE)
    monkeypatch.setenv("TOKEN_ISSUER", ISSUER)
    monkeypatch.setenv("TOKEN_AUDIENCE", CLIENT_ID)
    monkeypatch.setenv("TOKEN_JWKS_URL", jwks_url)
    create_session_table(moto_dynamodb, TABLE)

    def clean() -> None:
        lex_app.configure()
        chat_app.configure()

    clean()
    yield moto_dynamodb
    clean()


def lex(name: str, credential: str | None, language: str | None = None) -> dict:
    event = load_event(name)
    if language is not None:
        event["sessionState"]["intent"]["slots"]["Language"]["value"]["interpretedValue"] = language
    if credential is not None:
        event["requestAttributes"] = {TOKEN_REQUEST_ATTRIBUTE: credential}
    return assert_valid(lex_app.lambda_handler(event, lex_context()))


def test_one_profile_across_both_functions(stack):
    lex("lex_update_preferences_fulfillment", token(USER))
    assert call(http_event("GET", "/profile", actor=USER)).body == {"profile": {"language": "es"}}
    assert call(http_event("PATCH", "/profile", actor=USER, body={"name": "Bea"})).status == 200
    assert messages_text(lex("lex_greeting", token(USER))).startswith("Hola, Bea!")
    forged = token(USER, key="forger")
    lex("lex_update_preferences_fulfillment", forged, "fr")  # anonymous: the session changes, the profile does not
    assert messages_text(lex("lex_greeting", forged)).startswith("Bonjour, Ana!")
    assert call(http_event("GET", "/profile", actor=USER)).body == {"profile": {"name": "Bea", "language": "es"}}
    items = stack.scan(TableName=TABLE)["Items"]
    users = [item for item in items if item["pk"]["S"].startswith("U")]  # the user's partition
    assert [item["pk"]["S"] for item in users if item["sk"]["S"] == "~"] == [f"U{USER}"]  # one profile item
    assert {item["sk"]["S"][0] for item in users if item["sk"]["S"] != "~"} == {"l"}  # links to Lex conversations
    assert all("expires_at" in item for item in items)


def test_an_empty_patch_of_a_new_user_writes_no_item(stack):
    assert messages_text(lex("lex_greeting", token("new-user"))).startswith("Hello!")  # no profile: no name
    assert call(http_event("PATCH", "/profile", actor="new-user", body={})).body == {"profile": {}}
    assert call(http_event("PATCH", "/profile", actor="new-user", body={"name": None})).body == {"profile": {}}
    users = [item for item in stack.scan(TableName=TABLE)["Items"] if item["pk"]["S"].startswith("U")]
    assert not [item for item in users if item["sk"]["S"] == "~"]  # no profile item (the Lex turn's link only)
