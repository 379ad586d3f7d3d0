"""``chatstate.deadline.guard_client``: no botocore attempt or retry starts that could outlive the budget.

The clients talk to a loopback fault proxy without upstream (it only throttles, hangs or drops), so
what was really sent is counted by the proxy itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import chat_app
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from chatstate import deadline
from chatstate.chat.bedrock import MAX_READ_TIMEOUT_SECONDS, BedrockConverseResponder, read_timeout_for
from chatstate.deadline import Deadline, guard_client, within
from chatstate.exceptions import DeadlineExceeded
from devtools.fault_proxy import Fault, FaultProxy, Rule
from devtools.local import LambdaContext
from devtools.template import function_spec
from tests.unit.chat_support import ChatHarness, http_event


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(None, max_hang_seconds=10) as running:
        yield running


def dynamodb(endpoint: str, *, read_timeout: float = 1.0) -> object:
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=1, read_timeout=read_timeout)
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="fake",
        aws_secret_access_key="fake",
        config=config,
    )
    return guard_client(client)


def get(client: object) -> None:
    client.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})


def test_without_a_budget_botocore_retries_as_configured(proxy: FaultProxy) -> None:
    proxy.set_rule(Rule(Fault.THROTTLE))
    client = dynamodb(proxy.endpoint_url)
    with pytest.raises(ClientError):
        get(client)
    assert proxy.seen["GetItem"] == client.meta.config.retries["total_max_attempts"]


def test_no_attempt_starts_when_its_worst_case_does_not_fit(proxy: FaultProxy) -> None:
    client = dynamodb(proxy.endpoint_url)
    with within(Deadline(1.5)), pytest.raises(DeadlineExceeded, match="DynamoDB GetItem"):
        get(client)  # one attempt may take connect 1 s + read 1 s
    assert proxy.seen["GetItem"] == 0


def test_no_retry_when_backoff_and_attempt_do_not_fit(proxy: FaultProxy) -> None:
    proxy.set_rule(Rule(Fault.THROTTLE))
    client = dynamodb(proxy.endpoint_url)
    with within(Deadline(2.5)), pytest.raises(DeadlineExceeded, match="ProvisionedThroughputExceededException"):
        get(client)  # a retry needs up to 1 s of backoff + 2 s; what went wrong stays in the message
    assert proxy.seen["GetItem"] == 1


def test_a_hang_costs_at_most_the_budget(proxy: FaultProxy) -> None:
    proxy.set_rule(Rule(Fault.HANG))
    client = dynamodb(proxy.endpoint_url, read_timeout=0.3)
    budget = Deadline(2.0)
    with within(budget), pytest.raises(DeadlineExceeded):
        get(client)
    assert not budget.expired()  # gave up while time was left, instead of sleeping into the deadline
    assert 1 <= proxy.seen["GetItem"] <= 3


def test_bedrock_read_timeout_is_sized_from_the_function_timeout() -> None:
    chat_timeout = function_spec("AgentChatFunction").timeout_s
    budget = Deadline.from_context(LambdaContext.for_function("AgentChatFunction", timeout_s=chat_timeout))
    read = read_timeout_for(budget)
    assert read + 1 <= budget.seconds  # one attempt (connect 1 s + read) fits, with room to save
    assert read_timeout_for(None) == MAX_READ_TIMEOUT_SECONDS
    assert read_timeout_for(Deadline(28.0)) == MAX_READ_TIMEOUT_SECONDS


@pytest.mark.parametrize("fault", [Fault.HANG, Fault.DROP])
def test_chat_with_an_unresponsive_model_answers_503_in_time(
    proxy: FaultProxy, fault: Fault, fake_aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.set_rule(Rule(fault))
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", proxy.endpoint_url)
    chat = ChatHarness(responder=BedrockConverseResponder("model-x", read_timeout=0.5))
    session_id = chat.create()
    timeout = function_spec("AgentChatFunction").timeout_s
    context = LambdaContext.for_function("AgentChatFunction", timeout_s=timeout)
    raw = chat_app.lambda_handler(
        http_event("POST", f"/sessions/{session_id}/messages", body={"message": "hello?"}), context
    )
    assert context.get_remaining_time_in_millis() > 0
    assert raw["statusCode"] == 503
    assert '"responder_unavailable"' in raw["body"]
    assert int(raw["headers"]["Retry-After"]) >= 1
    assert chat.store.get(chat.service.ref("alice", session_id)).message_count == 0  # nothing stored
    assert proxy.seen
    assert deadline.current() is None  # the budget closed with the invocation
