"""The execution environment's stores: one DynamoDB client for the session and profile stores."""

from __future__ import annotations

import pytest

from chatstate import runtime
from chatstate.profile.dynamodb import DynamoDBProfileStore
from chatstate.profile.wiring import get_profile_store, set_profile_store
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.memory import InMemorySessionStore


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.setenv("SESSION_TABLE_NAME", "wiring-sessions")
    runtime.reset()
    set_profile_store(None)
    yield
    runtime.reset()
    set_profile_store(None)


def test_the_profile_store_shares_the_session_stores_client():
    client = object()
    runtime.set_store(DynamoDBSessionStore("wiring-sessions", client=client))
    profiles = get_profile_store()
    assert isinstance(profiles, DynamoDBProfileStore)
    assert profiles.client is client
    assert profiles.table_name == "wiring-sessions"


def test_without_a_dynamodb_session_store_the_profile_store_builds_its_own_client_lazily():
    runtime.set_store(InMemorySessionStore())
    profiles = get_profile_store()
    assert isinstance(profiles, DynamoDBProfileStore)
    assert profiles.props._client is None  # created on first use, from the environment
