"""The cold-start floor of the Lex function: hand-built, no chatstate, the same work (``benchmarks/bench_cold.py``).

What any Lex code hook that keeps its session in DynamoDB imports and builds: a botocore DynamoDB client created at
import (Lambda's Init) with the same retry and timeout config, a pydantic model of the event, Powertools' Logger and
Metrics. The event makes the same two DynamoDB requests as a new session's turn (a Query of the session, one
``TransactWriteItems`` of its head and first turn), logs one line, adds one metric and Closes.
"""

from __future__ import annotations

import os
import time
from typing import Any

import botocore.session
from aws_lambda_powertools import Logger, Metrics
from botocore.config import Config
from pydantic import BaseModel

logger = Logger(service="floor")
metrics = Metrics(namespace="floor")
TABLE = os.environ["SESSION_TABLE_NAME"]
client = botocore.session.get_session().create_client(
    "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=1, read_timeout=3)
)


class Intent(BaseModel):
    name: str


class SessionState(BaseModel):
    intent: Intent
    sessionAttributes: dict[str, str] | None = None


class Event(BaseModel):
    sessionId: str
    inputTranscript: str = ""
    sessionState: SessionState


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = Event.model_validate(event)
    pk = {"S": f"lex#floor#{parsed.sessionId}"}
    client.query(TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk})
    expires = {"N": str(int(time.time()) + 86_400)}
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": pk, "sk": {"S": "head"}, "expires_at": expires}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": pk, "sk": {"S": "turn#1"}, "expires_at": expires}}},
        ]
    )
    logger.info("lex turn", extra={"intent": parsed.sessionState.intent.name})
    metrics.add_metric(name="LexTurns", unit="Count", value=1)
    return {
        "sessionState": {
            "dialogAction": {"type": "Close"},
            "intent": {"name": parsed.sessionState.intent.name, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": "Hello!"}],
    }
