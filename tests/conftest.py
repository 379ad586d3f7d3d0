"""Shared fixtures: one DynamoDB Local per test session, a fresh table (from template.yaml) per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devtools.dynamodb_local import FAKE_CREDENTIALS, DynamoDBLocal, DynamoDBLocalError, local_client
from devtools.template import create_session_table


@pytest.fixture(scope="session")
def ddb_local() -> Iterator[DynamoDBLocal]:
    """DynamoDB Local (in memory), started once for the whole test session and stopped at the end."""
    server = DynamoDBLocal()
    try:
        server.start()
    except DynamoDBLocalError as exc:
        pytest.fail(f"integration tests need DynamoDB Local: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, no profile and no endpoint override: nothing can reach real AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_CREDENTIALS["region_name"])
    monkeypatch.setenv("AWS_REGION", FAKE_CREDENTIALS["region_name"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)


@pytest.fixture
def moto_dynamodb(fake_aws_env: None) -> Iterator[Any]:
    """A DynamoDB client inside moto's ``mock_aws`` (no table yet)."""
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("dynamodb", region_name=FAKE_CREDENTIALS["region_name"])


@pytest.fixture
def ddb_env(ddb_local: DynamoDBLocal, fake_aws_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fake credentials/region and ``AWS_ENDPOINT_URL_DYNAMODB`` in the environment; returns the endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb_local.endpoint_url)
    return ddb_local.endpoint_url


@pytest.fixture
def ddb_client(ddb_env: str) -> Any:
    """A low-level DynamoDB client on DynamoDB Local."""
    return local_client(ddb_env)


@pytest.fixture
def session_table(ddb_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, uniquely named table created from template.yaml's SessionTable (TTL on); its name.

    ``SESSION_TABLE_NAME`` is set to it, as the template sets it for the functions.
    """
    name = f"sessions-{uuid.uuid4().hex[:12]}"
    create_session_table(ddb_client, name)
    monkeypatch.setenv("SESSION_TABLE_NAME", name)
    try:
        yield name
    finally:
        ddb_client.delete_table(TableName=name)
