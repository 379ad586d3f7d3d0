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

        def sweep_memory() -> int:
            store = shared.get("store")
            return _sweep_memory(store, int(clock().timestamp())) if store else 0

        build.sweep = sweep_memory
        return build
    client = request.getfixturevalue("moto_dynamodb" if backend == "moto" else "ddb_client")
    table = _table(client)

    def build_ddb(policy: StorePolicy) -> SessionStore:
        return DynamoDBSessionStore(table, client=client, policy=policy)

    build_ddb.sweep = lambda: _sweep_table(client, table, int(clock().timestamp()))
    return build_ddb


def _sweep_memory(store: InMemorySessionStore, now: int) -> int:
    """Delete every expired record, as DynamoDB's TTL sweeper eventually does."""
    swept = 0
    for ref, head in list(store._heads.items()):
        if int(head.expires_at.timestamp()) <= now:
            del store._heads[ref]
            swept += 1
    turn_buckets = [bucket for incarnations in store._turns.values() for bucket in incarnations.values()]
    for bucket in (*turn_buckets, *store._requests.values()):
        for key, record in list(bucket.items()):
            if record.expires_at is not None and int(record.expires_at.timestamp()) <= now:
                del bucket[key]
                swept += 1
    return swept


def _sweep_table(client: Any, table: str, now: int) -> int:
    """Delete every item whose ``expires_at`` has passed, as DynamoDB's TTL sweeper eventually does."""
    swept = 0
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if "expires_at" in item and int(item["expires_at"]["N"]) <= now:
                client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
                swept += 1
    return swept


@pytest.fixture
def sweep(make_store):
    """Run the TTL sweeper now (on the store's backend): every expired item is deleted."""
    return make_store.sweep


@pytest.fixture
def store(make_store, policy: StorePolicy) -> SessionStore:
    return make_store(policy)
