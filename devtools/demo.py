"""``scripts/run-local.sh demo``: a scripted Lex conversation and a few chat API calls through both functions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from devtools.function_logs import function_output, where
from devtools.gateway import ACTOR_HEADER, ChatApiGateway, chat_cors
from devtools.lambda_env import LocalFunction
from devtools.stack import CHAT_FUNCTION, LEX_FUNCTION, dynamodb_endpoint, ensure_table, prepare_functions


def run_demo(args: argparse.Namespace) -> int:
    """Play ``events/lex_conversation`` through the Lex function, then a few chat API calls; print both."""
    events_dir = Path(args.events)
    with dynamodb_endpoint(args.endpoint) as endpoint:
        ensure_table(endpoint, args.table)
        output = function_output(args.logs)
        functions = prepare_functions([LEX_FUNCTION, CHAT_FUNCTION], endpoint, args.table, output)
        lex_conversation(functions[LEX_FUNCTION], events_dir / "lex_conversation")
        chat_calls(ChatApiGateway(functions[CHAT_FUNCTION], chat_cors()))
    print(f"\nThe functions' JSON logs are {where(args.logs)}.")
    return 0


def lex_conversation(function: LocalFunction, turns_dir: Path) -> None:
    print(f"== Lex: {LEX_FUNCTION} ({turns_dir}) ==")
    attributes: dict[str, Any] | None = None
    for path in sorted(turns_dir.glob("turn_*.json"), key=lambda p: int(p.stem[5:])):
        event = json.loads(path.read_text())
        if attributes is not None:  # Lex hands the previous response's attributes back
            event.setdefault("sessionState", {})["sessionAttributes"] = attributes
        response = function.invoke(event)
        attributes = response.get("sessionState", {}).get("sessionAttributes") or {}
        action = response.get("sessionState", {}).get("dialogAction", {})
        intent = response.get("sessionState", {}).get("intent", {})
        said = " ".join(m.get("content", "") for m in response.get("messages") or [])
        print(f"user> {event.get('inputTranscript', '')}")
        detail = action.get("slotToElicit") or intent.get("state") or ""
        print(f"bot > [{action.get('type')} {intent.get('name', '')} {detail}] {said}".rstrip())


def chat_calls(gateway: ChatApiGateway) -> None:
    print(f"\n== Chat API: {CHAT_FUNCTION} (actor 'demo-user') ==")

    def call(method: str, target: str, body: Any = None, actor: str | None = "demo-user") -> Any:
        headers = [("content-type", "application/json"), ("host", "127.0.0.1")]
        if actor:
            headers.append((ACTOR_HEADER, actor))
        raw = json.dumps(body).encode() if body is not None else b""
        result = gateway.handle(method, target, headers, raw)
        text = result.body.decode(errors="replace")
        print(f"{method} {target} -> {result.status} {text}")
        return json.loads(text) if text else None

    created = call("POST", "/sessions", {"state": {"plan": "demo"}})
    session_id = created.get("session_id") if isinstance(created, dict) else None
    if session_id:
        call("POST", f"/sessions/{session_id}/messages", {"message": "Hello! My name is Alice."})
        call("POST", f"/sessions/{session_id}/messages", {"message": "What did I just tell you?"})
        call("GET", f"/sessions/{session_id}/messages?limit=10")
        call("GET", f"/sessions/{session_id}")
        call("GET", f"/sessions/{session_id}", actor="someone-else")
        call("DELETE", f"/sessions/{session_id}")
        call("GET", f"/sessions/{session_id}")
    call("POST", "/sessions", {}, actor=None)
    call("GET", "/no/such/route")
