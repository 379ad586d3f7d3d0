"""The DynamoDB adapter turns every backend failure into one typed error, and writes nothing partial."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from chatstate.exceptions import ConflictError, StoreError, StoreUnavailable
from chatstate.models import NewMessage, SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore

REF = SessionRef.of("alice", "s-1")


@pytest.fixture
def client():
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="http://127.0.0.1:9",
    )


def test_throttled_read_is_store_unavailable_with_retry_after(client) -> None:
    store = DynamoDBSessionStore("sessions", client=client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "query", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
        )
        with pytest.raises(StoreUnavailable) as caught:
            store.load(REF)
    assert caught.value.retry_after_seconds >= 1


def test_throttled_transaction_is_store_unavailable(client) -> None:
    store = DynamoDBSessionStore("sessions", client=client)
    with Stubber(client) as stub:
        stub.add_response("query", {"Items": []})
        stub.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            http_status_code=400,
            response_meta={},
            modeled_fields={"CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}]},
        )
        with pytest.raises(StoreUnavailable):
            store.append(REF, [NewMessage(role="user", content="hi")])


def test_missing_table_is_a_store_error_not_a_retryable_one(client) -> None:
    store = DynamoDBSessionStore("sessions", client=client)
    with Stubber(client) as stub:
        stub.add_client_error("query", service_error_code="ResourceNotFoundException", http_status_code=400)
        with pytest.raises(StoreError):
            store.get(REF)


def test_endless_conflicts_end_in_conflict_error(client) -> None:
    store = DynamoDBSessionStore("sessions", client=client, max_attempts=3)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("query", {"Items": []})
            stub.add_client_error(
                "transact_write_items",
                service_error_code="TransactionCanceledException",
                http_status_code=400,
                modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]},
            )
        with pytest.raises(ConflictError):
            store.append(REF, [NewMessage(role="user", content="hi")])
        stub.assert_no_pending_responses()


def test_unreachable_endpoint_is_store_unavailable() -> None:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        config=Config(connect_timeout=0.5, read_timeout=0.5, retries={"mode": "standard", "max_attempts": 1}),
    )
    store = DynamoDBSessionStore("sessions", client=client)
    with pytest.raises(StoreUnavailable):
        store.load(REF)
    with pytest.raises(StoreUnavailable):
        store.append(REF, [NewMessage(role="user", content="hi")])


def test_client_is_created_lazily_once_with_standard_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    store = DynamoDBSessionStore("sessions")
    assert store._client is None  # nothing built at construction (import-time safe)
    first = store.client
    assert first is store.client
    assert first.meta.config.retries["mode"] == "standard"
    assert first.meta.endpoint_url == "http://127.0.0.1:8000"  # botocore's own endpoint variable
