"""Benchmark of the agent-chat function (not a test). Run from the repo root::

    .venv/bin/python benchmarks/bench_chat.py [--requests 2000] [--no-ddb]

Prints a Markdown table:

* warm overhead per request with the in-memory store and the built-in responder (median of N
  requests through ``chat_app.lambda_handler``), beside two hand-built handlers in the same run that
  return an API Gateway response dict of the same shape: one that only parses and dumps JSON, one that
  makes the same ``ChatService`` call by hand (so the difference is the resolver, validation, logging
  and metrics);
* (cold start, Init + first invocation, is measured by ``benchmarks/bench_cold.py``);
* DynamoDB requests and bytes (request bodies sent, response bodies received) per
  ``POST /sessions/{id}/messages`` against DynamoDB Local at 10, 100 and 1,000 prior messages.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "chatstate"
FUNCTION = ROOT / "functions" / "agent_chat"
for entry in (LAYER, FUNCTION, ROOT):  # a script, not a test: put the Lambda paths first like Lambda does
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

EVENTS = ROOT / "events"


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def _send_event(session_id: str, text: str) -> dict[str, Any]:
    event = _event("chat_send_message")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/sessions/{session_id}/messages"
    event["pathParameters"] = {"session_id": session_id}
    event["headers"].pop("idempotency-key", None)
    event["body"] = json.dumps({"message": text})
    return event


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1_000


class _Ctx:
    function_name = "AgentChatFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AgentChatFunction"
    aws_request_id = "bench"


def _settings():
    from chatstate.settings import Settings

    return Settings(table_name="bench-chat")


def warm(requests: int) -> list[tuple[str, float]]:
    """Median microseconds per request: chat_app vs hand-built handlers (stdout to a null sink)."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # Logger binds the stream at import
        import chat_app

        from chatstate.chat import EchoMemoryResponder
        from chatstate.store.memory import InMemorySessionStore

    def fresh():
        """A fresh in-memory store per run, so every run sees the same history lengths."""
        return chat_app.configure(
            settings=_settings(), store=InMemorySessionStore(), responder=EchoMemoryResponder()
        ).service

    service = fresh()
    sessions = [f"bench-{i}" for i in range(50)]  # spread the turns so histories stay short
    send_events = [_send_event(sessions[i % 50], f"message {i}") for i in range(requests)]
    get_event = _event("chat_get_session")
    ctx = _Ctx()

    def minimal(event: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(event["body"])
        payload = {"session_id": "s", "reply": body["message"], "message_count": 1}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}

    def by_hand(event: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(event["body"])
        actor = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
        turn = service.send_message(service.ref(actor, event["pathParameters"]["session_id"]), body["message"])
        payload = {"session_id": turn.session_id, "reply": turn.reply, "message_count": turn.message_count}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}

    def run(fn, events) -> list[int]:
        nonlocal service
        service = fresh()
        samples = []
        with contextlib.redirect_stdout(sink):
            chat_app.lambda_handler(_event("chat_create_session"), ctx)
            chat_app.lambda_handler(_event("chat_send_message"), ctx)
            for event in events[:100]:  # warm-up
                fn(event)
            for event in events:
                start = time.perf_counter_ns()
                fn(event)
                samples.append(time.perf_counter_ns() - start)
                sink.seek(0)
                sink.truncate()
        return samples

    handler = lambda event: chat_app.lambda_handler(event, ctx)  # noqa: E731
    direct_events = [
        _event("chat_direct_invoke") | {"request_id": None, "session_id": sessions[i % 50]} for i in range(requests)
    ]
    results = [
        ("hand-built APIGW response (json in/out only)", _median_us(run(minimal, send_events))),
        ("hand-built handler + same ChatService.send_message", _median_us(run(by_hand, send_events))),
        ("chat_app POST /sessions/{id}/messages", _median_us(run(handler, send_events))),
        ("chat_app GET /sessions/{id}", _median_us(run(handler, [get_event] * requests))),
        (
            "chat_app direct invoke",
            _median_us(run(handler, direct_events)),
        ),
    ]
    chat_app.configure()
    return results


def dynamodb(prior_counts: tuple[int, ...] = (10, 100, 1_000)) -> list[tuple[int, int, str, int, int]]:
    """(prior messages, requests, operations, bytes sent, bytes received) per POST message on DynamoDB Local."""
    import chat_app

    from benchmarks.bench_store import Meter
    from chatstate.chat import EchoMemoryResponder
    from chatstate.models import NewMessage, SessionRef
    from chatstate.store.dynamodb import DynamoDBSessionStore
    from devtools.dynamodb_local import DynamoDBLocal, local_client
    from devtools.template import create_session_table

    rows = []
    with DynamoDBLocal() as ddb, contextlib.redirect_stdout(io.StringIO()):
        client = local_client(ddb.endpoint_url)
        create_session_table(client, "bench-chat")
        meter = Meter()
        meter.attach(client)
        store = DynamoDBSessionStore("bench-chat", client=client)
        chat_app.configure(settings=_settings(), store=store, responder=EchoMemoryResponder())
        for prior in prior_counts:
            sid = f"prior-{prior}"
            ref = SessionRef.of(
                _event("chat_send_message")["requestContext"]["authorizer"]["jwt"]["claims"]["sub"], sid
            )
            turn = None
            for i in range(0, prior, 2):  # one turn (a question and its answer) per append, as in real use
                pair = [
                    NewMessage(role="user", content=f"earlier question number {i}, of a typical length"),
                    NewMessage(role="assistant", content=f"earlier answer number {i}, a little longer " * 3),
                ]
                turn = store.append(ref, pair, expected=turn.session if turn else None)
            meter.reset()
            response = chat_app.lambda_handler(_send_event(sid, "How many messages have we exchanged?"), _Ctx())
            assert response["statusCode"] == 200, response
            row = meter.snapshot()
            rows.append((prior, row["requests"], row["ops"].replace("+", " + "), row["sent"], row["received"]))
        chat_app.configure()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--no-ddb", action="store_true", help="skip the DynamoDB Local part")
    args = parser.parse_args()

    print(f"## agent-chat benchmark (Python {sys.version.split()[0]})\n")
    print("| measurement | value |")
    print("|---|---|")
    for name, micros in warm(args.requests):
        print(f"| warm: {name} (median of {args.requests}) | {micros:,.1f} µs |")
    if not args.no_ddb:
        print("\n| prior messages | DynamoDB requests per POST message | operations | bytes sent | bytes received |")
        print("|---|---|---|---|---|")
        for prior, count, operations, sent, received in dynamodb():
            print(f"| {prior:,} | {count} | {operations} | {sent:,} | {received:,} |")


if __name__ == "__main__":
    main()
