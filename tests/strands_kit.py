"""Helpers for the Strands session manager tests: one table per test on the in-memory twin, moto or DynamoDB Local,
the requests each backend receives, and a controllable clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from devtools.template import create_session_table
from tests.contract.conftest import Clock

TTL = 3600


@dataclass
class Requests:
    """DynamoDB operations sent by one client (botocore ``before-send``: retries included)."""

    operations: list[str] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._sent)

    def _sent(self, request: Any, **_: Any) -> None:
        self.operations.append(request.headers.get("X-Amz-Target", b"").decode().split(".")[-1])

    def take(self) -> list[str]:
        taken = list(self.operations)
        del self.operations[:]
        return taken


@dataclass
class StrandsTable:
    """A fresh session table (from template.yaml, or the in-memory twin), a clock and the requests it receives."""

    backend: str
    clock: Clock
    requests: Requests
    client: Any = None
    name: str = ""
    memory: Any = None

    def repository(self, **kwargs: Any) -> Any:
        from chatstate.strands import DynamoDBSessionRepository, InMemorySessionRepository

        kwargs.setdefault("ttl_seconds", TTL)
        kwargs.setdefault("now", self.clock)
        if self.memory is not None:
            return InMemorySessionRepository(table=self.memory, **kwargs)
        return DynamoDBSessionRepository(table_name=self.name, client=self.client, **kwargs)

    def manager(self, session_id: str = "s-1", **kwargs: Any) -> Any:
        from chatstate.strands import DynamoDBSessionManager, InMemorySessionManager

        kwargs.setdefault("ttl_seconds", TTL)
        kwargs.setdefault("now", self.clock)
        if self.memory is not None:
            return InMemorySessionManager(session_id, table=self.memory, **kwargs)
        return DynamoDBSessionManager(session_id, table_name=self.name, client=self.client, **kwargs)

    def items(self, pk_prefix: str = "") -> list[dict[str, Any]]:
        if self.memory is not None:
            found = list(self.memory.items.values())
        else:
            found = self.client.scan(TableName=self.name, ConsistentRead=True)["Items"]
        return [i for i in found if i["pk"]["S"].startswith(pk_prefix)]

    def put_raw(self, item: dict[str, Any]) -> None:
        """Write an item as is, behind the repository's back."""
        if self.memory is not None:
            self.memory.items[(item["pk"]["S"], item["sk"]["S"])] = item
        else:
            self.client.put_item(TableName=self.name, Item=item)


def strands_table_fixture() -> Callable[..., StrandsTable]:
    """A parametrised fixture: the same tests on the in-memory twin, moto and (integration) DynamoDB Local."""

    @pytest.fixture(params=["memory", "moto", pytest.param("dynamodb_local", marks=pytest.mark.integration)])
    def table(request: pytest.FixtureRequest) -> StrandsTable:
        if request.param == "memory":
            from chatstate.strands import InMemoryTable

            memory = InMemoryTable()
            return StrandsTable("memory", Clock(), Requests(memory.operations), memory=memory)
        client = request.getfixturevalue("moto_dynamodb" if request.param == "moto" else "ddb_client")
        name = f"strands-{uuid.uuid4().hex[:10]}"
        create_session_table(client, name)
        requests = Requests()
        requests.attach(client)
        return StrandsTable(request.param, Clock(), requests, client=client, name=name)

    return table
