"""Helpers for the Strands session manager tests: a table per test on moto or DynamoDB Local, a request meter."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.template import create_session_table

TTL = 3600


class Clock:
    """A controllable clock (starts at the real time: DynamoDB Local's TTL sweeper never fires in a test)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Requests:
    """DynamoDB operations sent by one client (botocore ``before-send``: retries included)."""

    operations: list[str] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._sent)

    def _sent(self, request: Any, **_: Any) -> None:
        self.operations.append(request.headers.get("X-Amz-Target", b"").decode().split(".")[-1])

    def take(self) -> list[str]:
        taken, self.operations = self.operations, []
        return taken


@dataclass
class StrandsTable:
    """A fresh session table built from template.yaml, its client, a clock and a request meter."""

    client: Any
    name: str
    clock: Clock
    requests: Requests
    backend: str = "moto"

    def manager(self, session_id: str = "s-1", **kwargs: Any) -> Any:
        from chatstate.strands import DynamoDBSessionManager

        kwargs.setdefault("ttl_seconds", TTL)
        kwargs.setdefault("now", self.clock)
        return DynamoDBSessionManager(session_id, table_name=self.name, client=self.client, **kwargs)

    def items(self, pk_prefix: str = "") -> list[dict[str, Any]]:
        found = self.client.scan(TableName=self.name, ConsistentRead=True)["Items"]
        return [i for i in found if i["pk"]["S"].startswith(pk_prefix)]


def strands_table_fixture() -> Callable[..., StrandsTable]:
    """A parametrised fixture: the same tests on moto and (integration) DynamoDB Local."""

    @pytest.fixture(params=["moto", pytest.param("dynamodb_local", marks=pytest.mark.integration)])
    def table(request: pytest.FixtureRequest) -> StrandsTable:
        client = request.getfixturevalue("moto_dynamodb" if request.param == "moto" else "ddb_client")
        name = f"strands-{uuid.uuid4().hex[:10]}"
        create_session_table(client, name)
        requests = Requests()
        requests.attach(client)
        return StrandsTable(client, name, Clock(), requests, request.param)

    return table
