"""The one contract suite runs against every SessionStore adapter: in-memory, moto and DynamoDB Local."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.memory import InMemorySessionStore
from chatstate.store.port import SessionStore, StorePolicy
from devtools.template import create_session_table

TTL = 3600


class Clock:
    """A controllable clock for TTL tests (starts at the real time: DynamoDB Local's TTL sweeper never fires)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def policy(clock: Clock) -> StorePolicy:
    return StorePolicy(ttl_seconds=TTL, now=clock)


def _table(client: Any) -> str:
    name = f"contract-{uuid.uuid4().hex[:10]}"
    create_session_table(client, name)
    return name


@pytest.fixture(params=["memory", "moto", pytest.param("dynamodb_local", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_store(backend: str, request: pytest.FixtureRequest, clock: Clock):
    """Build stores of the current backend sharing one table (so two stores see the same data)."""
    if backend == "memory":
        shared: dict[str, InMemorySessionStore] = {}

        def build(policy: StorePolicy) -> SessionStore:
            # The in-memory twin is one process-local database: the same instance plays every "client".
            if "store" not in shared:
                shared["store"] = InMemorySessionStore(policy)
            return shared["store"]

        return build
    client = request.getfixturevalue("moto_dynamodb" if backend == "moto" else "ddb_client")
    table = _table(client)

    def build_ddb(policy: StorePolicy) -> SessionStore:
        return DynamoDBSessionStore(table, client=client, policy=policy)

    return build_ddb


@pytest.fixture
def store(make_store, policy: StorePolicy) -> SessionStore:
    return make_store(policy)
