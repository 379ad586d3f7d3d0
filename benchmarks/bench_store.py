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

from chatstate.models import NewMessage, SessionRef, StatePatch
from chatstate.store.dynamodb import DynamoDBSessionStore
from devtools.dynamodb_local import DynamoDBLocal, local_client
from devtools.template import create_session_table

REPO = Path(__file__).resolve().parent.parent
HISTORY_SIZES = (10, 100, 1000)
LAST_K = 10
MESSAGE = "How do I change my flight to Lisbon on the 14th? " * 4  # ~200 characters


@dataclass
class Meter:
    """Counts DynamoDB requests, bytes sent/received and capacity units through botocore events."""

    requests: int = 0
    sent: int = 0
    received: int = 0
    capacity: float = 0.0
    operations: list[str] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._before_send)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def _before_send(self, request: Any, **_: Any) -> None:
        self.requests += 1
        self.sent += len(request.body or b"")
        self.operations.append(request.headers.get("X-Amz-Target", b"").decode().split(".")[-1])

    def _after_call(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.received += len(http_response.content or b"")
        consumed = parsed.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.capacity += float(entry.get("CapacityUnits", 0))

    def reset(self) -> None:
        self.requests, self.sent, self.received, self.capacity = 0, 0, 0, 0.0
        self.operations.clear()

    def snapshot(self) -> dict[str, Any]:
        """What was counted since the last snapshot (then starts counting afresh)."""
        row = {
            "requests": self.requests,
            "ops": "+".join(self.operations),
            "sent": self.sent,
            "received": self.received,
            "capacity": round(self.capacity, 1),
        }
        self.reset()
        return row


def bench_turns(endpoint: str) -> list[dict[str, Any]]:
    client = local_client(endpoint)
    create_session_table(client, "bench-sessions")
    store = DynamoDBSessionStore("bench-sessions", client=client, report_capacity=True)
    meter = Meter()
    meter.attach(client)
    rows = []

    def two_messages() -> list[NewMessage]:
        return [NewMessage(role="user", content=MESSAGE), NewMessage(role="assistant", content=MESSAGE)]

    for size in HISTORY_SIZES:
        ref = SessionRef.of("bench-actor", f"history-{size}")
        for _ in range(size // 2):
            store.append(ref, two_messages())
        meter.reset()
        loaded = store.load(ref, last=LAST_K)
        load_row = meter.snapshot()
        store.append(ref, two_messages(), expected=loaded.session, state=StatePatch.of({"turns": size}))
        append_row = meter.snapshot()
        loaded = store.load(ref, last=LAST_K)
        store.append(ref, two_messages(), expected=loaded.session)
        turn_row = meter.snapshot()
        store.page_messages(ref, limit=LAST_K)
        page_row = meter.snapshot()
        rows.append({"history": size, "load": load_row, "append": append_row, "turn": turn_row, "page": page_row})
    return rows


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
        rows = bench_turns(server.endpoint_url)
    print(f"### Session store on DynamoDB Local (last k = {LAST_K}, ~200-character messages)\n")
    print(
        "| history (messages) | load: requests / bytes in / RCU | append turn: requests / bytes out / WCU "
        "| full chat turn: requests | first page: requests |"
    )
    print("|---:|---|---|---:|---:|")
    for row in rows:
        load, append = row["load"], row["append"]
        print(
            f"| {row['history']:,} | {load['requests']} ({load['ops']}) / {load['received']:,} B / {load['capacity']} "
            f"| {append['requests']} ({append['ops']}) / {append['sent']:,} B / {append['capacity']} "
            f"| {row['turn']['requests']} | {row['page']['requests']} |"
        )
    print("\n### Cold import (fresh interpreter, median of 7, layer only)\n")
    print("| module | ms |\n|---|---:|")
    for module in ("chatstate", "chatstate.models", "chatstate.store.dynamodb"):
        print(f"| `import {module}` (no boto3) | {import_ms(module):.1f} |")
    print("\n<!-- raw: " + json.dumps(rows) + " -->")


if __name__ == "__main__":
    main()
