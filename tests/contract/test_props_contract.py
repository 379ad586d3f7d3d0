"""The PropsStore port (user props, global entries) on every adapter: in-memory, moto and DynamoDB Local."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from pydantic import BaseModel

from chatstate.models import NewMessage, SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.props import InMemoryPropsStore, PropsStore
from chatstate.store.props_dynamodb import DynamoDBPropsStore
from tests.contract.conftest import TTL, Clock, _table


class Booking(BaseModel):
    origin: str
    day: date


@pytest.fixture
def table(backend: str, request: pytest.FixtureRequest):
    if backend == "memory":
        return None, None
    client = request.getfixturevalue("moto_dynamodb" if backend == "moto" else "ddb_client")
    return client, _table(client)


@pytest.fixture
def props(table, clock: Clock) -> PropsStore:
    client, name = table
    if client is None:
        return InMemoryPropsStore(ttl_seconds=TTL, now=clock)
    return DynamoDBPropsStore(name, client=client, ttl_seconds=TTL, now=clock)


def test_user_props_merge_evict_and_expire(props: PropsStore, clock: Clock) -> None:
    props.save_user_props("alice", {"name": "Alice", "lang": "fr"})
    assert props.save_user_props("alice", {"lang": "es"}) == {"name": "Alice", "lang": "es"}
    assert props.get_user_props("bob") == {}
    props.evict_user_props("alice", "name", "never-there")
    assert props.get_user_props("alice") == {"lang": "es"}
    clock.advance(TTL + 1)
    assert props.get_user_props("alice") == {}
    assert props.save_user_props("alice", {"x": 1}) == {"x": 1}  # an expired item is replaced, not merged


def test_merge_sets_and_removes_in_one_atomic_write(props: PropsStore) -> None:
    props.merge_user_props("sub-1", {"name": "Ana", "tier": "free", "city": "Rome"})
    after = props.merge_user_props("sub-1", {"tier": "pro", "day": date(2026, 1, 2)}, remove=["city", "tier"])
    assert after == {"name": "Ana", "tier": "pro", "day": "2026-01-02"}  # a set wins over a remove of it
    assert props.get_user_props("sub-1") == after


def test_concurrent_field_writers_never_clobber_each_other(props: PropsStore, backend: str) -> None:
    if backend == "moto":
        pytest.skip("moto's in-process backend is not thread-safe; DynamoDB Local covers the real adapter")

    def write(worker: int) -> None:
        for i in range(10):
            props.merge_user_props("shared", {f"w{worker}": i})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert props.get_user_props("shared") == {f"w{w}": 9 for w in range(4)}


def test_user_props_never_meet_sessions_of_any_channel(props: PropsStore, table, clock: Clock) -> None:
    client, name = table
    if client is None:
        pytest.skip("key spaces are a DynamoDB layout property")
    sessions = DynamoDBSessionStore(name, client=client)
    for channel in ("api", "lex", "direct"):
        sessions.append(SessionRef.of("alice", "s", channel), [NewMessage(role="user", content="hi")])
    props.save_user_props("alice", {"k": 1})
    assert props.get_user_props("alice") == {"k": 1}
    for channel in ("api", "lex", "direct"):
        assert sessions.get(SessionRef.of("alice", "s", channel)).message_count == 1


def test_global_entries(props: PropsStore, clock: Clock) -> None:
    props.save_global("feature-flags", {"beta": True})
    props.save_global("prices", Booking(origin="A", day=date(2026, 1, 1)), ttl_seconds=120)
    assert props.get_global("feature-flags") == {"beta": True}
    assert props.get_global("prices", Booking).origin == "A"
    assert props.get_global("absent", default=0) == 0
    props.evict_global("feature-flags")
    assert props.get_global("feature-flags") is None
    clock.advance(121)
    assert props.get_global_entry("prices") is None
