"""Least privilege, checked against the code: each function's DynamoDB grant equals the actions its flows call.

Every request the functions send (on moto) is recorded through botocore's ``before-parameter-build`` event and
translated to the IAM action that authorises it (a transaction is authorised per element: Put → PutItem,
Update → UpdateItem, Delete → DeleteItem, ConditionCheck → ConditionCheckItem). The template must grant exactly that
set: a new call in the code without a grant would be AccessDenied in AWS, a grant nothing calls is privilege to remove.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import chat_app
import lex_app
import pytest
import strands_app

from chatstate.chat import EchoMemoryResponder
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from devtools.template import create_session_table, load_template
from tests.lexkit import EVENTS, assert_valid, lex_context, load_event
from tests.tokens import CLIENT_ID, ISSUER, served_jwks, token
from tests.unit.chat_support import call, chat_context, http_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TABLE = "iam-sessions"
PLAIN = {
    name: f"dynamodb:{name}"
    for name in ("Query", "Scan", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "BatchGetItem")
}
TRANSACT_ELEMENT = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def iam_actions(operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions one DynamoDB request needs."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return {TRANSACT_ELEMENT[kind] for item in params["TransactItems"] for kind in item}
    return {PLAIN[operation]}


INDEX_ARN = re.compile(r"^\$\{SessionTable\.Arn\}/index/([\w.-]+)$")


def granted(function_id: str) -> set[str]:
    """The DynamoDB actions ``function_id``'s policies grant on the session table (and ``... on index X``)."""
    policies = load_template()["Resources"][function_id]["Properties"]["Policies"]
    actions: set[str] = set()
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            for statement in policy["Statement"]:
                listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                dynamo = {a for a in listed if a.startswith("dynamodb:")}
                resource = statement["Resource"]
                index = INDEX_ARN.match(resource.get("Fn::Sub", "")) if isinstance(resource, dict) else None
                if index:  # a grant on an index only: no table access
                    actions |= {f"{a} on index {index.group(1)}" for a in dynamo}
                else:
                    actions |= dynamo
    return actions


@pytest.fixture
def recorded(moto_dynamodb, monkeypatch) -> Iterator[tuple[DynamoDBSessionStore, set[str]]]:
    """A DynamoDB store on moto whose requests are recorded as IAM actions."""
    create_session_table(moto_dynamodb, TABLE)
    monkeypatch.setenv("SESSION_TABLE_NAME", TABLE)
    actions: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        actions.update(iam_actions(model.name, params))
        if "IndexName" in params:
            actions.add(f"{PLAIN[model.name]} on index {params['IndexName']}")

    moto_dynamodb.meta.events.register("before-parameter-build.dynamodb.*", record)
    with served_jwks() as (jwks_url, _):
        monkeypatch.setenv("TOKEN_ISSUER", ISSUER)
        monkeypatch.setenv("TOKEN_AUDIENCE", CLIENT_ID)
        monkeypatch.setenv("TOKEN_JWKS_URL", jwks_url)
        yield DynamoDBSessionStore(TABLE, client=moto_dynamodb, policy=StorePolicy(ttl_seconds=600)), actions


def test_lex_function_grant_is_exactly_what_a_conversation_calls(recorded):
    store, actions = recorded
    lex_app.configure(store=store)
    try:
        for path in sorted(EVENTS.glob("lex_*.json")):
            assert_valid(lex_app.lambda_handler(load_event(path.stem), lex_context()))
        attributes = None
        for path in sorted((EVENTS / "lex_conversation").glob("turn_*.json")):
            event = json.loads(path.read_text())
            if attributes is not None:
                event["sessionState"]["sessionAttributes"] = attributes
            attributes = assert_valid(lex_app.lambda_handler(event, lex_context()))["sessionState"]["sessionAttributes"]
        for name in ("lex_update_preferences_fulfillment", "lex_greeting"):  # a signed-in user: profile read + merge
            event = load_event(name)
            event["requestAttributes"] = {TOKEN_REQUEST_ATTRIBUTE: token("signed-in-user")}
            if name == "lex_update_preferences_fulfillment":  # a language the conversation above did not choose
                event["sessionState"]["intent"]["slots"]["Language"]["value"]["interpretedValue"] = "de"
            assert_valid(lex_app.lambda_handler(event, lex_context()))
    finally:
        lex_app.configure()
    assert actions == granted("LexFulfillmentFunction")


def test_chat_function_grant_is_exactly_what_its_routes_call(recorded):
    store, actions = recorded
    chat_app.configure(store=store, responder=EchoMemoryResponder())
    try:
        created = call(http_event("POST", "/sessions", body={"state": {"name": "Ana"}}))
        sid = created.body["session_id"]
        for n in range(12):
            message = http_event("POST", f"/sessions/{sid}/messages", body={"message": f"m{n}"})
            assert call(message).status == 200
        retry = http_event("POST", f"/sessions/{sid}/messages", body={"message": "x"}, headers={"Idempotency-Key": "k"})
        assert call(retry).status == 200
        assert call(retry).status == 200  # the replay reads the stored reply back
        assert call(http_event("GET", f"/sessions/{sid}")).status == 200
        page = call(http_event("GET", f"/sessions/{sid}/messages", query={"limit": "5"}))
        later = http_event("GET", f"/sessions/{sid}/messages", query={"cursor": page.body["next_cursor"]})
        assert call(later).status == 200
        direct = {"message": "hi", "session_id": "direct-1", "actor_id": "bob"}
        assert "response" in chat_app.lambda_handler(direct, chat_context())
        assert call(http_event("DELETE", f"/sessions/{sid}")).status == 204
        assert call(http_event("PATCH", "/profile", body={"name": "Ana"})).status == 200
        assert call(http_event("GET", "/profile")).body == {"profile": {"name": "Ana"}}
        kept = call(http_event("POST", "/sessions")).body["session_id"]
        assert call(http_event("POST", f"/sessions/{kept}/messages", body={"message": "hi"})).status == 200
        assert call(http_event("GET", "/sessions", query={"limit": "1"})).status == 200
        assert call(http_event("PATCH", f"/sessions/{kept}", body={"title": "Named"})).status == 200
        assert call(http_event("GET", "/me/export")).status == 200
        assert call(http_event("DELETE", "/me")).body["complete"] is True
    finally:
        chat_app.configure()
    assert actions == granted("AgentChatFunction")


def test_strands_function_grant_is_exactly_what_its_invocations_call(recorded, monkeypatch):
    from datetime import timedelta

    from chatstate.models import utc_now
    from chatstate.strands import repository as strands_repository

    _, actions = recorded
    clock = {"now": utc_now()}
    monkeypatch.setattr(strands_repository, "utc_now", lambda: clock["now"])
    monkeypatch.setenv("SESSION_TTL_SECONDS", "600")
    strands_app.configure(table=recorded[0])  # the store is a DynamoDBTable: the same table and recorded client
    context = chat_context()

    def ask(prompt: str, session_id: str = "trip-1") -> dict[str, Any]:
        answer = strands_app.lambda_handler({"prompt": prompt, "session_id": session_id, "actor_id": "ana"}, context)
        assert "response" in answer, answer
        return answer

    try:
        ask("hello")  # a new session: restore finds nothing, the session record and the turn are put
        ask("flights from Paris to Rome on 2030-05-01")  # restore + one turn with a tool call
        ask("book CS123 on 2030-05-01")
        clock["now"] += timedelta(seconds=400)  # past half the TTL: the session record's TTL is pushed forward
        ask("thanks")
        clock["now"] += timedelta(seconds=700)  # the turns expired, the session record not yet: it is read back
        ask("hello again")
    finally:
        strands_app.configure()
    assert actions == granted("StrandsAgentFunction")
