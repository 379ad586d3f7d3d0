"""Each function's composition root: one object per function, rebuilt with one call; one client per table."""

from __future__ import annotations

import chat_app
import lex_app
import pytest

from chatstate.environment import profile_store, session_store
from chatstate.profile import DynamoDBProfileStore
from chatstate.settings import Settings
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.memory import InMemorySessionStore

SETTINGS = Settings(table_name="wiring-sessions", ttl_seconds=600)


@pytest.fixture(autouse=True)
def clean(fake_aws_env, monkeypatch):
    monkeypatch.setenv("SESSION_TABLE_NAME", "wiring-sessions")
    monkeypatch.setenv("CHAT_HISTORY_TURNS", "3")
    yield
    lex_app.configure()
    chat_app.configure()


def test_the_profile_store_shares_the_session_stores_client():
    client = object()
    profiles = profile_store(SETTINGS, DynamoDBSessionStore("wiring-sessions", client=client))
    assert isinstance(profiles, DynamoDBProfileStore)
    assert profiles.client is client
    assert profiles.table_name == "wiring-sessions"


def test_without_a_dynamodb_session_store_the_profile_store_builds_its_own_client_lazily():
    profiles = profile_store(SETTINGS, InMemorySessionStore())
    assert isinstance(profiles, DynamoDBProfileStore)
    assert profiles.props._client is None  # created on first use, from the environment


def test_the_session_store_follows_the_settings():
    store = session_store(SETTINGS)
    assert isinstance(store, DynamoDBSessionStore)
    assert store.table_name == "wiring-sessions"
    assert store.policy.ttl_seconds == 600


@pytest.mark.parametrize("module", [lex_app, chat_app])
def test_one_call_rebuilds_a_functions_dependencies_from_the_environment(module):
    first = module.dependencies()
    assert module.dependencies() is first  # one per execution environment
    rebuilt = module.configure()
    assert rebuilt is module.dependencies()
    assert rebuilt is not first
    assert rebuilt.settings.table_name == "wiring-sessions"
    assert rebuilt.settings.history_turns == 3
    assert rebuilt.store.table_name == "wiring-sessions"  # the DynamoDB store
    assert rebuilt.profiles.client is rebuilt.store.client  # one client per table


def test_injected_parts_are_used_and_the_rest_built_from_the_environment():
    store = InMemorySessionStore()
    parts = lex_app.configure(store=store)
    assert parts.runtime.store is store
    assert parts.runtime.history_turns == 3
    assert parts.runtime.profiles is not None
    assert parts.runtime.profiles.profiles is parts.profiles
    chat = chat_app.configure(store=store)
    assert chat.service.store is store
    assert chat.service.history_turns == 3


def test_an_unknown_part_is_refused():
    with pytest.raises(TypeError, match="storee"):
        chat_app.configure(storee=InMemorySessionStore())
