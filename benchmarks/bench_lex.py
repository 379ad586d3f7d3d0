"""Benchmark of the Lex V2 runtime (not a test). Run from the repo root::

    .venv/bin/python benchmarks/bench_lex.py [--events 2000] [--no-ddb]

Prints a Markdown table:

* warm overhead per event with the in-memory store (median of N events), beside two hand-built
  handlers in the same run that return a Close response dict of the same shape: one without any
  state, one doing the same store load + append by hand;
* (cold start, Init + first invocation, is measured by ``benchmarks/bench_cold.py``);
* DynamoDB requests per Lex turn against DynamoDB Local (every HTTP attempt counted with botocore's
  ``before-send`` hook), over the sample conversation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "chatstate"
FUNCTION = ROOT / "functions" / "lex_fulfillment"
for entry in (LAYER, FUNCTION, ROOT):  # a script, not a test: put the Lambda paths first like Lambda does
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from chatstate.models import NewMessage, SessionRef, StatePatch  # noqa: E402
from chatstate.store.memory import InMemorySessionStore  # noqa: E402

EVENTS = ROOT / "events"


def _events(n_sessions: int = 50) -> list[dict[str, Any]]:
    base = json.loads((EVENTS / "lex_greeting.json").read_text())
    out = []
    for i in range(n_sessions):
        event = json.loads(json.dumps(base))
        event["sessionId"] = f"bench-{i:04d}"
        out.append(event)
    return out


def hand_built(event: dict[str, Any]) -> dict[str, Any]:
    """What a careful hand-written handler returns for Greeting: a Close/Fulfilled dict, no state."""
    state = event["sessionState"]
    attributes = dict(state.get("sessionAttributes") or {})
    visits = int(attributes.get("visits", "0")) + 1
    attributes["visits"] = str(visits)
    name = attributes.get("name")
    return {
        "sessionState": {
            "dialogAction": {"type": "Close"},
            "intent": {"name": state["intent"]["name"], "slots": {}, "state": "Fulfilled", "confirmationState": "None"},
            "sessionAttributes": attributes,
        },
        "messages": [{"contentType": "PlainText", "content": f"Hello, {name}! This is visit number {visits}."}],
    }


def hand_built_with_store(store: InMemorySessionStore):
    """The same hand-built response plus the same durable work: one load, one append of the same state.

    It keeps the state the sample bot keeps (every attribute as JSON, visits and per-intent counts
    updated), so the store does identical work in both handlers and the difference is chatstate's.
    """

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        ref = SessionRef.lex(event["bot"]["id"], event["sessionId"])
        loaded = store.load(ref, last=0)
        durable = loaded.session.state if loaded else {}
        response = hand_built(event)
        inbound = event["sessionState"].get("sessionAttributes") or {}
        visits = int(durable.get("visits", 0)) + 1
        counts = dict(durable.get("intent_counts", {}))
        counts["Greeting"] = counts.get("Greeting", 0) + 1
        state = {
            "name": inbound.get("name", durable.get("name")),
            "language": durable.get("language", "en"),
            "last_booking": durable.get("last_booking"),
            "recent_bookings": durable.get("recent_bookings", []),
            "intent_counts": counts,
            "visits": visits,
            "tier": durable.get("tier", "standard"),
            "loyalty_token": durable.get("loyalty_token"),
        }
        changes = {k: v for k, v in state.items() if durable.get(k, object()) != v}
        attributes = response["sessionState"]["sessionAttributes"]
        attributes.update({k: json.dumps(v, separators=(",", ":")) for k, v in state.items() if k != "name"})
        attributes["visits"] = str(visits)
        messages = [
            NewMessage(role="user", content=event["inputTranscript"]),
            NewMessage(role="assistant", content=response["messages"][0]["content"]),
        ]
        store.append(ref, messages, expected=loaded.session if loaded else None, state=StatePatch(values=changes))
        return response

    return handler


def _median_us(fn, events: list[dict[str, Any]], n: int) -> float:
    for event in events:  # warm-up: create the sessions, fill caches
        fn(event)
    samples = []
    for i in range(n):
        event = events[i % len(events)]
        event["sessionState"]["originatingRequestId"] = f"bench-request-{i}"  # each event a new Lex request
        t0 = time.perf_counter_ns()
        fn(event)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000


def bench_warm(n: int) -> dict[str, float]:
    from lex_bot.intents import router

    from chatstate.lex import LexRuntime

    events = _events()
    runtime = LexRuntime(router, store=InMemorySessionStore())
    import logging

    logging.getLogger("chatstate.lex").setLevel(logging.WARNING)
    return {
        "chatstate": _median_us(runtime.handle, events, n),
        "hand_built": _median_us(hand_built, events, n),
        "hand_built_store": _median_us(hand_built_with_store(InMemorySessionStore()), events, n),
    }


def bench_ddb_requests() -> tuple[list[int], float] | str:
    try:
        from devtools.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, local_client
        from devtools.template import create_session_table
    except ImportError as exc:
        return f"devtools unavailable: {exc}"
    from lex_bot.intents import router

    from chatstate.lex import LexRuntime
    from chatstate.store.dynamodb import DynamoDBSessionStore

    try:
        server = DynamoDBLocal().start()
    except DynamoDBLocalError as exc:
        return f"DynamoDB Local unavailable: {exc}"
    try:
        client = local_client(server.endpoint_url)
        create_session_table(client, "bench-sessions")
        sent: list[int] = []
        client.meta.events.register("before-send.dynamodb.*", lambda **_: sent.append(1))
        runtime = LexRuntime(router, store=DynamoDBSessionStore("bench-sessions", client=client))
        per_turn, latencies = [], []
        for round_ in range(5):
            attributes = None
            for path in sorted((EVENTS / "lex_conversation").glob("turn_*.json")):
                event = json.loads(path.read_text())
                event["sessionId"] = f"bench-conv-{round_}"
                if attributes is not None:
                    event["sessionState"]["sessionAttributes"] = attributes
                before = len(sent)
                t0 = time.perf_counter()
                response = runtime.handle(event)
                latencies.append((time.perf_counter() - t0) * 1000)
                per_turn.append(len(sent) - before)
                attributes = response["sessionState"].get("sessionAttributes", attributes)
        return per_turn, statistics.median(latencies)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--no-ddb", action="store_true")
    args = parser.parse_args()

    warm = bench_warm(args.events)
    rows = [
        (
            "Warm turn, chatstate runtime (in-memory store, Greeting → Close)",
            f"{warm['chatstate']:.1f} µs",
            f"median of {args.events}",
        ),
        ("Warm, hand-built Close dict (no store)", f"{warm['hand_built']:.1f} µs", "same run"),
        ("Warm, hand-built Close dict + same store load/append", f"{warm['hand_built_store']:.1f} µs", "same run"),
        ("Ratio chatstate / hand-built (no store)", f"{warm['chatstate'] / warm['hand_built']:.1f}x", ""),
        ("Ratio chatstate / hand-built + store", f"{warm['chatstate'] / warm['hand_built_store']:.2f}x", "aim <= 3x"),
        ("Overhead over hand-built + store", f"{warm['chatstate'] - warm['hand_built_store']:.1f} µs", "per turn"),
    ]
    if not args.no_ddb:
        result = bench_ddb_requests()
        if isinstance(result, str):
            rows.append(("DynamoDB requests per Lex turn (DynamoDB Local)", "n/a", result))
        else:
            per_turn, latency = result
            rows.append(
                (
                    "DynamoDB requests per Lex turn (DynamoDB Local)",
                    f"max {max(per_turn)}, mean {statistics.mean(per_turn):.2f}",
                    f"{len(per_turn)} turns; aim ≤ 2",
                )
            )
            rows.append(("Turn latency on DynamoDB Local", f"{latency:.1f} ms", "median, loopback"))
    print("| measure | value | notes |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()
