"""Both functions answer before their template Timeout, validly, whatever DynamoDB does.

Each test runs a function in-process, as Lambda would (template environment, a Lambda context whose
remaining time is the template's Timeout), with botocore pointed at a fault proxy in front of
DynamoDB Local. The answer must come while the context still has time left, be a valid answer (HTTP
JSON error with ``Retry-After``, a valid Lex V2 response) and leave the table either untouched or with
the whole turn (checked on DynamoDB Local directly, not through the proxy).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import chat_app
import lex_app
import pytest

from chatstate.models import SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore
from devtools.fault_proxy import FAULTS, FaultProxy
from devtools.local import LambdaContext
from devtools.template import function_spec
from tests.lexkit import assert_valid, load_event
from tests.unit.chat_support import http_event

pytestmark = pytest.mark.integration

CHAT_SESSION = "s-faults-0001"
CHAT_ACTOR = "alice"


def timeout_of(logical_id: str) -> int:
    return function_spec(logical_id).timeout_s


@pytest.fixture
def proxy(session_table: str, ddb_local, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fault proxy in front of DynamoDB Local; the functions' store is pointed at it."""
    with FaultProxy(ddb_local.endpoint_url, max_hang_seconds=30) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", running.endpoint_url)
        chat_app.configure()
        lex_app.configure()
        yield running
        chat_app.configure()
        lex_app.configure()


def table_items(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the table, read from DynamoDB Local directly (sorted, comparable)."""
    found = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(found, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def assert_whole(client: Any, table: str, ref: SessionRef) -> None:
    """The session's message count matches the messages stored: no turn was written in part."""
    loaded = DynamoDBSessionStore(table, client=client).load(ref, last=1000)
    assert loaded is not None
    assert [m.seq for m in loaded.recent] == list(range(1, loaded.session.event_count + 1))


def run_chat(context: LambdaContext) -> tuple[int, dict[str, str], Any]:
    event = http_event("POST", f"/sessions/{CHAT_SESSION}/messages", actor=CHAT_ACTOR, body={"message": "how are you?"})
    raw = chat_app.lambda_handler(event, context)
    headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    return raw["statusCode"], headers, json.loads(raw["body"]) if raw.get("body") else None


def lex_event(name: str) -> dict[str, Any]:
    return load_event(name)


CHAT_REF = SessionRef.of(CHAT_ACTOR, CHAT_SESSION)
LEX_REF = SessionRef.lex("CHATBOT01", "user-ana-0001")
FUNCTIONS: dict[str, tuple[str, Callable[[LambdaContext], Any]]] = {
    "chat": ("AgentChatFunction", run_chat),
    "lex-fulfillment": ("LexFulfillmentFunction", lambda ctx: lex_app.lambda_handler(lex_event("lex_greeting"), ctx)),
    "lex-dialog-hook": (
        "LexFulfillmentFunction",
        lambda ctx: lex_app.lambda_handler(lex_event("lex_update_preferences_dialog"), ctx),
    ),
}


CASES = [
    (function, fault)
    for function in FUNCTIONS
    for fault in FAULTS
    if function != "lex-dialog-hook" or fault in {"all-hang", "connections-dropped", "throttled"}
]
"""Every fault on both functions; the dialog hook (same code path as fulfillment) on the failing ones."""


@pytest.mark.parametrize(("function", "fault"), CASES, ids=[f"{fn}-{fault}" for fn, fault in CASES])
def test_answers_before_the_timeout_and_writes_all_or_nothing(
    proxy: FaultProxy, ddb_client: Any, session_table: str, function: str, fault: str
) -> None:
    logical_id, invoke = FUNCTIONS[function]
    timeout = timeout_of(logical_id)
    invoke(LambdaContext.for_function(logical_id, timeout_s=timeout))  # a healthy first turn
    before = table_items(ddb_client, session_table)

    proxy.set_rule(FAULTS[fault])
    context = LambdaContext.for_function(logical_id, timeout_s=timeout)
    answer = invoke(context)
    left_ms = context.get_remaining_time_in_millis()
    proxy.set_rule(None)

    assert left_ms > 0, f"answered after the {timeout} s Timeout"
    assert proxy.faulted, "the fault was never applied"
    after = table_items(ddb_client, session_table)
    assert_whole(ddb_client, session_table, CHAT_REF if function == "chat" else LEX_REF)
    if function == "chat":
        status, headers, body = answer
        if status == 200:
            assert fault.endswith("delayed-2.5s"), (status, body)
            assert len(after) == len(before) + 1  # one turn item: the question and the reply
        else:
            assert status == 503, body
            assert body["error"]["code"] == "store_unavailable"
            assert int(headers["retry-after"]) >= 1
            assert after == before
    else:
        assert_valid(answer)
        state = answer["sessionState"]
        if state["dialogAction"]["type"] == "Close" and state["intent"]["state"] == "Failed":
            assert after == before
        else:
            assert fault.endswith("delayed-2.5s"), answer
            assert len(after) > len(before)
