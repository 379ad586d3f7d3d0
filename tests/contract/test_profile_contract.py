"""The ProfileStore contract: the in-memory twin and the DynamoDB adapter (moto, DynamoDB Local) agree."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from chatstate.models import NewMessage, SessionRef, StatePatch
from chatstate.profile import DynamoDBProfileStore, InMemoryProfileStore, ProfileStore
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from chatstate.store.props_dynamodb import DynamoDBPropsStore
from devtools.template import create_session_table

TTL = 3600


@pytest.fixture
def table(backend: str, request: pytest.FixtureRequest) -> tuple[Any, str] | None:
    if backend == "memory":
        return None
    client = request.getfixturevalue("moto_dynamodb" if backend == "moto" else "ddb_client")
    name = f"profile-{uuid.uuid4().hex[:10]}"
    create_session_table(client, name)
    return client, name


@pytest.fixture
def profiles(table, clock) -> ProfileStore:
    if table is None:
        return InMemoryProfileStore(ttl_seconds=TTL, now=clock)
    client, name = table
    return DynamoDBProfileStore(name, client=client, ttl_seconds=TTL, now=clock)


def test_a_new_subject_has_an_empty_profile(profiles):
    assert profiles.get("sub-1") == {}


def test_merge_sets_keeps_and_removes_fields(profiles):
    assert profiles.merge("sub-1", {"name": "Ana"}) == {"name": "Ana"}
    assert profiles.merge("sub-1", {"language": "fr"}) == {"name": "Ana", "language": "fr"}
    assert profiles.merge("sub-1", {"name": None}) == {"language": "fr"}
    assert profiles.get("sub-1") == {"language": "fr"}


def test_values_keep_their_json_types(profiles):
    value = {"tags": ["a", "b"], "count": 3, "on": False, "empty": ""}
    profiles.merge("sub-1", value)
    assert profiles.get("sub-1") == value


def test_subjects_are_isolated(profiles):
    profiles.merge("sub-1", {"name": "Ana"})
    assert profiles.get("sub-2") == {}
    assert profiles.get("SUB-1") == {}


def test_an_expired_profile_is_absent_and_a_merge_starts_fresh(profiles, clock):
    profiles.merge("sub-1", {"name": "Ana", "language": "fr"})
    clock.advance(TTL + 1)
    assert profiles.get("sub-1") == {}
    assert profiles.merge("sub-1", {"language": "de"}) == {"language": "de"}
    assert profiles.get("sub-1") == {"language": "de"}


def test_a_merge_refreshes_the_expiry(profiles, clock):
    profiles.merge("sub-1", {"name": "Ana"})
    clock.advance(TTL - 10)
    profiles.merge("sub-1", {"language": "it"})
    clock.advance(20)
    assert profiles.get("sub-1") == {"name": "Ana", "language": "it"}


def test_delete_erases_the_profile_and_is_idempotent(profiles, clock):
    profiles.merge("ana", {"name": "Ana"})
    profiles.merge("ben", {"name": "Ben"})
    assert profiles.delete("ana") is True
    assert profiles.get("ana") == {}
    assert profiles.delete("ana") is False
    assert profiles.get("ben") == {"name": "Ben"}


def test_invalid_subjects_are_refused(profiles):
    with pytest.raises(ValueError, match="subject"):
        profiles.get("")
    with pytest.raises(ValueError, match="subject"):
        profiles.merge("bad\nsub", {"name": "x"})


def test_concurrent_merges_of_different_fields_all_survive(profiles, backend):
    if backend == "moto":
        pytest.skip("moto's backend is not thread-safe; the in-memory twin and DynamoDB Local run this")
    fields = [f"field{i}" for i in range(8)]

    def write(name: str) -> None:
        profiles.merge("sub-1", {name: name})

    threads = [threading.Thread(target=write, args=(name,)) for name in fields]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert profiles.get("sub-1") == {name: name for name in fields}


# -- DynamoDB specifics: the key space and the TTL attribute ---------------------------------------------
@pytest.fixture
def ddb_table(table):
    if table is None:
        pytest.skip("DynamoDB adapter only")
    return table


def test_every_profile_item_carries_expires_at_and_its_own_key_space(ddb_table, clock):
    client, name = ddb_table
    profiles = DynamoDBProfileStore(name, client=client, ttl_seconds=TTL, now=clock)
    profiles.merge("sub-1", {"name": "Ana"})
    items = client.scan(TableName=name)["Items"]
    assert [item["pk"]["S"] for item in items] == ["Usub-1"]  # the user's props item
    assert int(items[0]["expires_at"]["N"]) == int(clock.now.timestamp()) + TTL


def test_sessions_never_reach_a_profile(ddb_table, clock):
    client, name = ddb_table
    sessions = DynamoDBSessionStore(name, client=client, policy=StorePolicy(ttl_seconds=TTL, now=clock))
    for actor in ("U", "Usub-1", "sub-1"):
        for channel in ("api", "lex", "direct"):
            ref = SessionRef.of(actor, "sub-1", channel)
            sessions.append(
                ref, [NewMessage(role="user", content="hi")], expected=None, state=StatePatch.of({"name": "Mallory"})
            )
    profiles = DynamoDBProfileStore(name, client=client, ttl_seconds=TTL, now=clock)
    assert profiles.get("sub-1") == {}
    profiles.merge("sub-1", {"name": "Ana"})
    assert DynamoDBPropsStore(name, client=client, now=clock).get_user_props("sub-1") == {"name": "Ana"}
