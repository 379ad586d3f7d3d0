"""Benchmark: worst-case answer time of both functions per DynamoDB fault (not a test). From the repo root::

    .venv/bin/python -m benchmarks.bench_faults [--runs 3]

Each function runs in-process as Lambda would (template environment, a Lambda context whose
remaining time is the template's Timeout, the store built by the function itself) with botocore
pointed at ``devtools.fault_proxy.FaultProxy`` in front of DynamoDB Local. For every fault the
function is invoked ``--runs`` times (after one healthy turn); the table shows the slowest answer,
what was answered, and the DynamoDB requests that reached the proxy per invocation (every attempt).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "layers" / "chatstate", ROOT / "functions" / "lex_fulfillment", ROOT / "functions" / "agent_chat"):
    if str(entry) not in sys.path:  # a script, not a test: the Lambda paths first, like Lambda
        sys.path.insert(0, str(entry))
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from devtools import fault_proxy  # noqa: E402
from devtools.fault_proxy import Fault, FaultProxy, Rule  # noqa: E402

FAULTS: dict[str, Rule] = {"none": Rule(Fault.DELAY, delay_seconds=0.0), **fault_proxy.FAULTS}


def _lex_event(name: str, session: str) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    event["sessionId"] = session
    return event


def _chat_event(session: str) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "chat_send_message.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/sessions/{session}/messages"
    event["pathParameters"] = {"session_id": session}
    event["body"] = json.dumps({"message": "How are you?"})
    event["isBase64Encoded"] = False
    event["headers"].pop("idempotency-key", None)  # a new turn each time, not a replay
    return event


def _summary(answer: Any) -> str:
    if "statusCode" in answer:
        return str(answer["statusCode"])
    state = answer["sessionState"]
    action = state["dialogAction"]["type"]
    intent_state = (state.get("intent") or {}).get("state")
    return f"{action}/{intent_state}" if intent_state and action == "Close" else action


def measure(runs: int) -> list[tuple[str, str, int, float, str, float]]:
    """Rows: (fault, function, Timeout, worst seconds, answers, requests per invocation)."""
    import chat_app
    import lex_app

    from devtools.dynamodb_local import DynamoDBLocal, local_client
    from devtools.local import LambdaContext
    from devtools.template import create_session_table, function_spec

    functions: dict[str, tuple[str, Callable[[str], dict[str, Any]], Callable[..., Any]]] = {
        "agent chat (POST /messages)": ("AgentChatFunction", _chat_event, chat_app.lambda_handler),
        "Lex fulfillment (Greeting)": (
            "LexFulfillmentFunction",
            lambda s: _lex_event("lex_greeting", s),
            lex_app.lambda_handler,
        ),
        "Lex dialog hook (UpdatePreferences)": (
            "LexFulfillmentFunction",
            lambda s: _lex_event("lex_update_preferences_dialog", s),
            lex_app.lambda_handler,
        ),
    }
    for logger in (chat_app.logger, lex_app.logger):  # Powertools prints to the stdout it found at import
        logger.registered_handler.setStream(io.StringIO())
    rows = []
    with DynamoDBLocal() as ddb, FaultProxy(ddb.endpoint_url, max_hang_seconds=40) as proxy:
        create_session_table(local_client(ddb.endpoint_url), "bench-faults")
        os.environ.update(
            SESSION_TABLE_NAME="bench-faults",
            AWS_ENDPOINT_URL_DYNAMODB=proxy.endpoint_url,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_DEFAULT_REGION="us-east-1",
        )
        lex_app.configure()
        chat_app.configure()
        for fault, rule in FAULTS.items():
            for label, (logical_id, event_for, handler) in functions.items():
                timeout = function_spec(logical_id).timeout_s
                worst, answers, requests = 0.0, set(), 0
                for run in range(runs):
                    session = f"b-{abs(hash((fault, label))) % 10**8}-{run}"
                    proxy.set_rule(None)
                    with contextlib.redirect_stdout(io.StringIO()):
                        handler(event_for(session), LambdaContext.for_function(logical_id, timeout_s=timeout))
                    proxy.set_rule(rule)
                    before = sum(proxy.seen.values())
                    started = time.perf_counter()
                    with contextlib.redirect_stdout(io.StringIO()):
                        answer = handler(event_for(session), LambdaContext.for_function(logical_id, timeout_s=timeout))
                    worst = max(worst, time.perf_counter() - started)
                    requests += sum(proxy.seen.values()) - before
                    answers.add(_summary(answer))
                proxy.set_rule(None)
                rows.append((fault, label, timeout, worst, ", ".join(sorted(answers)), requests / runs))
                print(f"  {fault} / {label}: {worst:.2f} s", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="invocations per fault and function")
    args = parser.parse_args()
    rows = measure(args.runs)
    print(f"## worst-case answer time per DynamoDB fault ({args.runs} runs each, Python {sys.version.split()[0]})\n")
    print("| fault | function | Timeout | worst answer time | answered | DynamoDB attempts per invocation |")
    print("|---|---|---:|---:|---|---:|")
    for fault, label, timeout, worst, answers, requests in rows:
        print(f"| {fault} | {label} | {timeout} s | {worst:.2f} s | {answers} | {requests:.1f} |")


if __name__ == "__main__":
    main()
