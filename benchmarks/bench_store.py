"""Store benchmark on DynamoDB Local: requests, bytes and capacity per turn as history grows; import cost.

Run: ``.venv/bin/python -m benchmarks.bench_store`` (scripts/bench.sh runs every benchmark).
Counts come from botocore's own events (one ``before-send`` per HTTP request, retries included), so
they are what DynamoDB would bill; capacity units come from ``ReturnConsumedCapacity=TOTAL``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatstate.models import NewMessage, SessionRef
from chatstate.store import capacity, items
from chatstate.store.dynamodb import DynamoDBSessionStore
from devtools.dynamodb_local import DynamoDBLocal, local_client
from devtools.template import create_session_table

REPO = Path(__file__).resolve().parent.parent
HISTORY_SIZES = (10, 100, 1000)


@dataclass
class Meter:
    """Counts DynamoDB requests, bytes sent/received and capacity units through botocore events.

    With an ``inspect`` client (a second client on the same endpoint, not attached), it also bills
    every call by DynamoDB's rules (``chatstate.store.capacity``) from the real items: for a write,
    the larger of each item's image before and after (read back through ``inspect``); for a read, the
    summed size of the items returned. ``capacity`` is what the emulator itself reported.
    """

    inspect: Any = None
    requests: int = 0
    sent: int = 0
    received: int = 0
    capacity: float = 0.0
    wcu: float = 0.0
    rcu: float = 0.0
    operations: list[str] = field(default_factory=list)
    _pending: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)
    _before: list[int] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._before_send)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def _before_send(self, request: Any, **_: Any) -> None:
        self.requests += 1
        self.sent += len(request.body or b"")
        operation = request.headers.get("X-Amz-Target", b"").decode().split(".")[-1]
        self.operations.append(operation)
        self._pending, self._before = [], []
        if self.inspect is not None and operation in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            body = json.loads(request.body or b"{}")
            entries = [(body, False)] if operation != "TransactWriteItems" else []
            for entry in body.get("TransactItems", []):
                ((_, params),) = entry.items()
                entries.append((params, True))
            self._pending = []
            for params, transactional in entries:
                key = params.get("Key") or {"pk": params["Item"]["pk"], "sk": params["Item"]["sk"]}
                self._pending.append((params["TableName"], key, transactional))
            self._before = [self._image(table, key) for table, key, _ in self._pending]

    def _image(self, table: str, key: dict[str, Any]) -> int:
        item = self.inspect.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return capacity.item_size(item) if item else 0

    def _after_call(self, http_response: Any, parsed: dict[str, Any], model: Any = None, **_: Any) -> None:
        self.received += len(http_response.content or b"")
        consumed = parsed.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.capacity += float(entry.get("CapacityUnits", 0))
        if self.inspect is None or http_response.status_code != 200:
            self._pending, self._before = [], []
            return
        name = getattr(model, "name", "")
        if name in ("Query", "GetItem"):
            found = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
            self.rcu += capacity.read_units(capacity.items_size(found))
        for (table, key, transactional), before in zip(self._pending, self._before, strict=True):
            self.wcu += capacity.write_units(max(before, self._image(table, key)), transactional=transactional)
        self._pending, self._before = [], []

    def reset(self) -> None:
        self.requests, self.sent, self.received, self.capacity, self.wcu, self.rcu = 0, 0, 0, 0.0, 0.0, 0.0
        self.operations.clear()

    def snapshot(self) -> dict[str, Any]:
        """What was counted since the last snapshot (then starts counting afresh)."""
        row = {
            "requests": self.requests,
            "ops": "+".join(self.operations),
            "sent": self.sent,
            "received": self.received,
            "capacity": round(self.capacity, 1),
            "wcu": self.wcu,
            "rcu": self.rcu,
        }
        self.reset()
        return row


USER_TEXT = ("How do I change my flight to Lisbon on the 14th? " * 3)[:120]
ASSISTANT_TEXT = (
    "You can change it in Manage booking: pick the flight, choose a new date, pay any fare difference. " * 5
)[:480]
PAGE_SIZE = 20


def lex_state() -> dict[str, Any]:
    """About 1 KB of the sample bot's typed state (names, five bookings, counts, a secret token)."""
    bookings = [
        {
            "departure_city": f"San Francisco {i}",
            "arrival_city": "Rio de Janeiro",
            "departure_date": f"2026-08-0{i + 1}",
        }
        for i in range(5)
    ]
    return {
        "name": "Ana Beatriz",
        "language": "it",
        "last_booking": bookings[-1],
        "recent_bookings": bookings,
        "intent_counts": {"Greeting": 1, "BookFlight": 5, "UpdatePreferences": 2},
        "visits": 1,
        "tier": "gold",
        "loyalty_token": "tok_" + "x" * 60,
    }


def pair() -> list[NewMessage]:
    return [NewMessage(role="user", content=USER_TEXT), NewMessage(role="assistant", content=ASSISTANT_TEXT)]


def prefill(store: DynamoDBSessionStore, ref: SessionRef, turns: int, **create: Any) -> Any:
    if create:
        store.create(ref, **create)
    result = None
    for _ in range(turns):
        result = store.append(ref, pair(), expected=result.session if result else None)
    return result


def bench_budget(endpoint: str) -> list[dict[str, Any]]:
    """Every budget row at 10/100/1,000 turns of history, measured on DynamoDB Local."""
    import copy

    from lex_bot.intents import router

    from chatstate.chat import EchoMemoryResponder
    from chatstate.chat.service import ChatService
    from chatstate.lex import LexRuntime
    from tests.lexkit import fixed_now, load_event, new_request

    client = local_client(endpoint)
    create_session_table(client, "bench-sessions")
    store = DynamoDBSessionStore("bench-sessions", client=client, report_capacity=True)
    meter = Meter(inspect=local_client(endpoint))
    meter.attach(client)
    service = ChatService(store, EchoMemoryResponder(), history_turns=5)  # the last 10 messages
    runtime = LexRuntime(router, store=store, now=fixed_now)
    greeting = load_event("lex_greeting")
    greeting["sessionState"].pop("sessionAttributes", None)
    rows: list[dict[str, Any]] = []

    def row(work: str, turns: int, **extra: Any) -> None:
        rows.append({"work": work, "history": turns, **meter.snapshot(), **extra})

    for turns in HISTORY_SIZES:
        ref = SessionRef.of("9f1c2d3e-4b5a-6789-abcd-ef0123456789", f"chat-{turns}")  # a Cognito-sized sub
        last = prefill(store, ref, turns)
        meter.reset()
        service.send_message(ref, USER_TEXT)  # load last 10 + one 600-character turn
        row("stateless chat turn", turns)
        service.send_message(ref, USER_TEXT, request_id=f"key-{turns}")
        row("same with an Idempotency-Key", turns)
        last = store.append(ref, pair())  # refresh ``last``: a warm writer holds its previous result
        meter.reset()
        last = store.append(ref, pair(), expected=last.session)
        row("warm append (no load)", turns)
        page = store.page_messages(ref, limit=PAGE_SIZE)
        meter.reset()
        store.page_messages(ref, limit=PAGE_SIZE, cursor=page.next_cursor)
        row(f"page 2 of history ({PAGE_SIZE} messages)", turns)
        lex_ref = SessionRef.lex(greeting["bot"]["id"], f"lex-{turns}")
        prefill(store, lex_ref, turns, state=lex_state())
        event = copy.deepcopy(greeting)
        event["sessionId"] = lex_ref.session_id
        meter.reset()
        runtime.handle(event)
        row("Lex turn, ~1 KB of typed state that changes", turns)
        rows[-1]["state_bytes"] = len(items.dump_json(store.get(lex_ref).state))
        request = new_request(event)  # one utterance, both code hooks: Lex invokes the function twice
        meter.reset()
        runtime.handle(request | {"invocationSource": "DialogCodeHook"})
        row(DIALOG_HOOK, turns)
        runtime.handle(request | {"invocationSource": "FulfillmentCodeHook"})
        row(FULFILLMENT_HOOK, turns)
        meter.reset()
    return rows


DIALOG_HOOK = "Lex request with both code hooks: the dialog hook (Delegate, records the utterance)"
FULFILLMENT_HOOK = "… then its fulfillment hook (state changes, records only the answer)"

BUDGETS = {
    "stateless chat turn": "2 requests, 1 WCU, 1 RCU",
    "same with an Idempotency-Key": "≤ 3 requests, ≤ 4 WCU",
    "warm append (no load)": "1 request, 1 WCU",
    f"page 2 of history ({PAGE_SIZE} messages)": "1 Query per page, bytes ∝ page",
    "Lex turn, ~1 KB of typed state that changes": "2 requests, ≤ 4 WCU, ≤ 2 RCU",
    DIALOG_HOOK: "2 requests, ≤ 4 WCU, ≤ 2 RCU",
    FULFILLMENT_HOOK: "2 requests, ≤ 4 WCU, ≤ 2 RCU",
}


def import_ms(module: str, runs: int = 7) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter (layer on the path)."""
    code = f"import time; t=time.perf_counter(); import {module}; print((time.perf_counter()-t)*1000)"
    env = {"PYTHONPATH": str(REPO / "layers" / "chatstate"), "PATH": "/usr/bin:/bin"}
    samples = [
        float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples)


def main() -> None:
    with DynamoDBLocal() as server:
        rows = bench_budget(server.endpoint_url)
    print("### Store cost on DynamoDB Local: 120 + 480-character turns, last 10 messages\n")
    print(
        "Billed units are computed from the real items by DynamoDB's rules (`chatstate.store.capacity`); "
        "the emulator column is what DynamoDB Local reported (it does not double transactions).\n"
    )
    print(
        "| work | history (turns) | requests | bytes sent / received | billed WCU | billed RCU "
        "| emulator units | budget |"
    )
    print("|---|---:|---|---|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row['work']} | {row['history']:,} | {row['requests']} ({row['ops']}) "
            f"| {row['sent']:,} / {row['received']:,} | {row['wcu']:g} | {row['rcu']:g} | {row['capacity']:g} "
            f"| {BUDGETS[row['work']]} |"
        )
    lex = [r for r in rows if "state_bytes" in r]
    if lex:
        print(f"\nLex state: {lex[0]['state_bytes']:,} bytes of JSON.")
    print("\n### Cold import (fresh interpreter, median of 7, layer only)\n")
    print("| module | ms |\n|---|---:|")
    for module in ("chatstate", "chatstate.models", "chatstate.store.dynamodb"):
        print(f"| `import {module}` (no boto3) | {import_ms(module):.1f} |")
    print("\n<!-- raw: " + json.dumps(rows) + " -->")


if __name__ == "__main__":
    main()
