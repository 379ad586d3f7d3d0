"""The cold-start floor of the chat function: hand-built, no chatstate, the same work (``benchmarks/bench_cold.py``).

``floor_lex``'s client, logger and metrics, plus what an HTTP API function on Powertools adds: its
``APIGatewayHttpResolver`` with the ``POST /sessions/<session_id>/messages`` route and a pydantic model of the body.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from floor_lex import TABLE, client, logger, metrics
from pydantic import BaseModel

app = APIGatewayHttpResolver()


class Body(BaseModel):
    message: str


@app.post("/sessions/<session_id>/messages")
def send_message(session_id: str) -> Response:
    body = Body.model_validate_json(app.current_event.body or "{}")
    pk = {"S": f"api#floor#{session_id}"}
    client.query(TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk})
    expires = {"N": str(int(time.time()) + 86_400)}
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": pk, "sk": {"S": "head"}, "expires_at": expires}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": pk, "sk": {"S": "turn#1"}, "expires_at": expires}}},
        ]
    )
    logger.info("message answered")
    metrics.add_metric(name="ChatTurns", unit="Count", value=1)
    reply = {"session_id": session_id, "reply": body.message, "message_count": 1}
    return Response(status_code=200, content_type="application/json", body=json.dumps(reply))


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
