"""Conversation list, titles, rename, export and erase on DynamoDB Local: requests and billed units.

Run: ``.venv/bin/python -m benchmarks.bench_conversations`` (scripts/bench.sh runs every benchmark).
Requests are counted from botocore's events (one ``before-send`` per HTTP request). Units are billed by
DynamoDB's rules (``chatstate.store.capacity``) from the real items, read back through a second client:

* a table write: 1 WCU per started KB of the larger of the item's images before and after (a delete: the
  item it removed), twice that inside a transaction;
* the ``by-activity`` index: an entry appearing or disappearing is one index write, a changed index key
  two (delete + put), a changed projected attribute one, each of 1 WCU per started KB of the entry;
  index writes are counted once, even for a transactional table write;
* a read: 1 RCU per started 4 KB of the items returned, half of it when eventually consistent (every
  index Query is).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chatstate.account import AccountService
from chatstate.chat import EchoMemoryResponder
from chatstate.chat.service import ChatService
from chatstate.models import Message, SessionRef
from chatstate.profile import DynamoDBProfileStore
from chatstate.store import capacity, items, logic
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from chatstate.store.records import Head, Turn
from devtools.dynamodb_local import DynamoDBLocal, local_client
from devtools.template import create_session_table

TABLE = "bench-conversations"
ACTOR = "9f1c2d3e-4b5a-6789-abcd-ef0123456789"  # a Cognito-sized sub
USER_TEXT = ("How do I change my flight to Lisbon on the 14th? " * 3)[:120]
ASSISTANT_TEXT = (
    "You can change it in Manage booking: pick the flight, choose a new date, pay any fare difference. " * 5
)[:480]
INDEX_ATTRIBUTES = ("pk", "sk", items.INDEX_PK, items.INDEX_SK, "ti", "c", "m", items.TTL_ATTRIBUTE)
LIST_SIZES = (10, 1_000, 10_000)
PACES = (5, 15, 30, 60)
INTERVALS = (300, 600, 1200)
TURNS = 20


def index_entry(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``by-activity`` entry of a table item (``None``: the item is not in the sparse index)."""
    if not item or items.INDEX_PK not in item or items.INDEX_SK not in item:
        return None
    return {name: item[name] for name in INDEX_ATTRIBUTES if name in item}


def index_writes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
    """Index WCU of one table write, from the item's images before and after it."""
    old, new = index_entry(before), index_entry(after)
    if old == new:
        return 0
    if old is None or new is None:
        return capacity.write_units(capacity.item_size(old if old is not None else new or {}))
    keys = (items.INDEX_PK, items.INDEX_SK)
    if any(old[k] != new[k] for k in keys):
        return capacity.write_units(capacity.item_size(old)) + capacity.write_units(capacity.item_size(new))
    return capacity.write_units(max(capacity.item_size(old), capacity.item_size(new)))


@dataclass
class Meter:
    """Requests and billed units of everything sent through one client."""

    inspect: Any
    requests: int = 0
    ops: list[str] = field(default_factory=list)
    wcu: float = 0.0
    index_wcu: float = 0.0
    rcu: float = 0.0
    read_bytes: int = 0
    _params: dict[str, Any] = field(default_factory=dict)
    _writes: list[tuple[dict[str, Any], bool, dict[str, Any] | None]] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)
        client.meta.events.register("before-send.dynamodb", self._send)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _image(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.inspect.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._params, self._writes = dict(params), []
        entries: list[tuple[dict[str, Any], bool]] = []
        if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            entries.append((params, False))
        elif model.name == "TransactWriteItems":
            entries += [(next(iter(e.values())), True) for e in params["TransactItems"]]
        elif model.name == "BatchWriteItem":
            for request in params["RequestItems"].get(TABLE, []):
                put = request.get("PutRequest")
                entries.append(({"Item": put["Item"]} if put else request["DeleteRequest"], False))
        for entry, transactional in entries:
            key = entry.get("Key") or {"pk": entry["Item"]["pk"], "sk": entry["Item"]["sk"]}
            self._writes.append((key, transactional, self._image(key)))

    def _send(self, request: Any, **_: Any) -> None:
        self.requests += 1
        self.ops.append(request.headers.get("X-Amz-Target", b"").decode().split(".")[-1])

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code != 200:
            self._writes = []
            return
        if model.name in ("Query", "GetItem"):
            found = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
            size = capacity.items_size(found)
            indexed = "IndexName" in self._params
            consistent = bool(self._params.get("ConsistentRead")) and not indexed
            self.read_bytes += size
            self.rcu += capacity.read_units(size, consistent=consistent)
        unprocessed = parsed.get("UnprocessedItems", {}).get(TABLE, [])
        for key, transactional, before in self._writes[: len(self._writes) - len(unprocessed)]:
            after = self._image(key)
            self.wcu += capacity.write_units(
                max(capacity.item_size(before or {}), capacity.item_size(after or {})), transactional=transactional
            )
            self.index_wcu += index_writes(before, after)
        self._writes = []

    def take(self) -> dict[str, Any]:
        row = {
            "requests": self.requests,
            "ops": _ops(self.ops),
            "wcu": self.wcu,
            "index_wcu": self.index_wcu,
            "rcu": self.rcu,
            "read_bytes": self.read_bytes,
        }
        self.requests, self.wcu, self.index_wcu, self.rcu, self.read_bytes = 0, 0.0, 0.0, 0.0, 0
        self.ops.clear()
        return row


def _ops(ops: list[str]) -> str:
    counts: dict[str, int] = {}
    for op in ops:
        counts[op] = counts.get(op, 0) + 1
    return " + ".join(f"{n} {op}" if n > 1 else op for op, n in counts.items())


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def batch_put(client: Any, batch: list[dict[str, Any]]) -> None:
    for offset in range(0, len(batch), 25):
        requests = [{"PutRequest": {"Item": item}} for item in batch[offset : offset + 25]]
        while requests:
            response = client.batch_write_item(RequestItems={TABLE: requests})
            requests = response.get("UnprocessedItems", {}).get(TABLE, [])


def seed_heads(client: Any, actor: str, count: int, clock: Clock, ttl: int) -> None:
    """``count`` listed sessions of ``actor``, as the store writes them (titled, one turn each), newest last."""
    start = clock.now - timedelta(seconds=count)
    heads = []
    for n in range(count):
        moment = start + timedelta(seconds=n)
        head = Head(
            incarnation=logic.new_incarnation(moment),
            created_at=moment,
            updated_at=moment,
            expires_at=moment + timedelta(seconds=ttl + ttl // 2),
            turns=1,
            event_count=2,
            message_count=1,
            title=logic.derive_title(USER_TEXT),
            activity=moment,
        )
        heads.append(items.head_to_item(SessionRef.of(actor, f"seeded-{n:05d}"), head))
    batch_put(client, heads)


def seed_turns(client: Any, ref: SessionRef, turns: int, clock: Clock, ttl: int) -> None:
    """One session with ``turns`` turns of a 120 + 480-character exchange."""
    incarnation = logic.new_incarnation(clock.now)
    batch = []
    for n in range(1, turns + 1):
        messages = (
            Message.model_construct(seq=2 * n - 1, role="user", content=USER_TEXT, created_at=clock.now),
            Message.model_construct(seq=2 * n, role="assistant", content=ASSISTANT_TEXT, created_at=clock.now),
        )
        turn = Turn(n, messages, 2 * n, n, clock.now, clock.now + timedelta(seconds=ttl))
        batch.append(items.turn_to_item(ref, incarnation, turn))
    head = Head(
        incarnation=incarnation,
        created_at=clock.now,
        updated_at=clock.now,
        expires_at=clock.now + timedelta(seconds=ttl + ttl // 2),
        turns=turns,
        event_count=2 * turns,
        message_count=turns,
        title=logic.derive_title(USER_TEXT),
        activity=clock.now,
    )
    batch.append(items.head_to_item(ref, head))
    batch_put(client, batch)


def conversation(
    store: DynamoDBSessionStore, meter: Meter, clock: Clock, actor: str, pace: int, *, via_post: bool
) -> dict[str, Any]:
    """A 20-turn stateless conversation, one turn every ``pace`` seconds; units of the turns alone and of creation."""
    service = ChatService(store, EchoMemoryResponder(), history_turns=5)
    meter.take()
    created = None
    if via_post:
        created = service.create_session(actor)
        session_id = created.session_id
    else:
        session_id = f"first-turn-{pace}-{time.monotonic_ns()}"
    creation = meter.take()
    clock.advance(pace)  # the user types the first message
    for _ in range(TURNS):
        service.send_message(SessionRef.of(actor, session_id), USER_TEXT)
        clock.advance(pace)
    turns = meter.take()
    return {"creation": creation, "turns": turns}


def main() -> None:
    with DynamoDBLocal() as server:
        client = local_client(server.endpoint_url)
        create_session_table(client, TABLE)
        meter = Meter(inspect=local_client(server.endpoint_url))
        meter.attach(client)
        clock = Clock()
        ttl = 86_400
        policy = StorePolicy(ttl_seconds=ttl, now=clock)
        store = DynamoDBSessionStore(TABLE, client=client, policy=policy)
        unlisted = DynamoDBSessionStore(
            TABLE, client=client, policy=StorePolicy(ttl_seconds=ttl, now=clock, listed_channels=frozenset())
        )
        report: dict[str, Any] = {}

        # 1. a list page of 20 at 10 / 1,000 / 10,000 sessions
        rows = []
        for count in LIST_SIZES:
            actor = f"{ACTOR[:-5]}{count:05d}"
            seed_heads(client, actor, count, clock, ttl)
            meter.take()
            first = store.list_sessions(actor, limit=20)
            page1 = meter.take()
            store.list_sessions(actor, limit=20, cursor=first.next_cursor)
            page2 = meter.take()
            rows.append({"sessions": count, "page1": page1, "page2": page2, "shown": len(first.sessions)})
        report["list"] = rows

        # 2. a 20-turn stateless conversation: turns' write cost with the index, at several paces
        rows = []
        for pace in PACES:
            listed = conversation(store, meter, clock, f"pace-{pace}", pace, via_post=True)
            first_turn = conversation(store, meter, clock, f"pace-{pace}-b", pace, via_post=False)
            baseline = conversation(unlisted, meter, clock, f"pace-{pace}-c", pace, via_post=True)
            rows.append({"pace": pace, "listed": listed, "first_turn": first_turn, "without_index": baseline})
        report["turns"] = rows
        rows = []  # the order bound against the cost, at one turn a minute
        for interval in INTERVALS:
            tuned = DynamoDBSessionStore(
                TABLE, client=client, policy=StorePolicy(ttl_seconds=ttl, now=clock, index_interval_seconds=interval)
            )
            rows.append(
                {"interval": interval, "run": conversation(tuned, meter, clock, f"bound-{interval}", 60, via_post=True)}
            )
        report["intervals"] = rows

        # 3. rename
        ref = SessionRef.of(ACTOR, "rename-me")
        ChatService(store, EchoMemoryResponder()).send_message(ref, USER_TEXT)
        meter.take()
        store.rename(ref, "Lisbon, the 14th")
        report["rename"] = meter.take()

        # 4. export and erase: 1 session, 100 sessions, one session of 10,000 turns
        profiles = DynamoDBProfileStore(TABLE, client=client, now=clock)
        account = AccountService(store, profiles)
        rows = []
        for label, sessions, turns in (
            ("1 session, 10 turns", 1, 10),
            ("100 sessions, 10 turns each", 100, 10),
            ("1 session, 10,000 turns", 1, 10_000),
        ):
            actor = f"export-{sessions}-{turns}"
            for n in range(sessions):
                seed_turns(client, SessionRef.of(actor, f"s{n:03d}"), turns, clock, ttl)
            profiles.merge(actor, {"name": "Ana"})
            meter.take()
            page, pages = account.export(actor), 1
            while page["next_cursor"]:
                page, pages = account.export(actor, page["next_cursor"]), pages + 1
            export = meter.take()
            receipt, calls = account.erase(actor), 1
            while receipt["next_cursor"]:
                receipt, calls = account.erase(actor, receipt["next_cursor"]), calls + 1
            erase = meter.take()
            left = sum(
                1
                for page_ in client.get_paginator("scan").paginate(TableName=TABLE)
                for item in page_["Items"]
                if actor in str(item)
            )
            rows.append(
                {
                    "work": label,
                    "export": export,
                    "export_pages": pages,
                    "erase": erase,
                    "erase_calls": calls,
                    "erased": receipt["erased"],
                    "left_after_erase": left,
                }
            )
        report["account"] = rows
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    print("### Conversation list: one page of 20 (GET /sessions) on DynamoDB Local\n")
    print("| sessions of the user | requests | bytes read | billed RCU (eventually consistent index) | next page |")
    print("|---:|---|---:|---:|---|")
    for row in report["list"]:
        p1, p2 = row["page1"], row["page2"]
        print(
            f"| {row['sessions']:,} | {p1['requests']} ({p1['ops']}) | {p1['read_bytes']:,} | {p1['rcu']:g} "
            f"| {p2['requests']} request, {p2['rcu']:g} RCU |"
        )
    print(f"\n### A stateless {TURNS}-turn conversation: write cost per turn, index writes included\n")
    print(
        "Session created by `POST /sessions` (its head and index entry: the creation column), then 20 turns; "
        "the first-turn column creates the session with its first message. Billed WCU per turn, averaged over the "
        "20 turns (table + index).\n"
    )
    print(
        "| one turn every | requests per turn | listed: avg WCU/turn | creation WCU | first message creates: avg "
        "WCU/turn | without the list (before): avg WCU/turn |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for row in report["turns"]:
        listed, first, base = row["listed"], row["first_turn"], row["without_index"]
        per = listed["turns"]["requests"] / TURNS

        def avg(run: dict[str, Any]) -> str:
            total = run["turns"]["wcu"] + run["turns"]["index_wcu"]
            return f"{total / TURNS:.2f} ({run['turns']['wcu']:g} + {run['turns']['index_wcu']:g} index)"

        creation = listed["creation"]["wcu"] + listed["creation"]["index_wcu"]
        print(f"| {row['pace']} s | {per:g} | {avg(listed)} | {creation:g} | {avg(first)} | {avg(base)} |")
    print("\nThe order bound (`StorePolicy.index_interval_seconds`) against the cost, one turn a minute:\n")
    print("| index interval (order bound) | avg WCU per turn (table + index) |")
    print("|---:|---:|")
    for row in report["intervals"]:
        turns = row["run"]["turns"]
        total = turns["wcu"] + turns["index_wcu"]
        print(f"| {row['interval']} s | {total / TURNS:.2f} ({turns['wcu']:g} + {turns['index_wcu']:g} index) |")
    rename = report["rename"]
    print(
        f"\nRename (`PATCH /sessions/{{id}}`): {rename['requests']} request ({rename['ops']}), "
        f"{rename['wcu']:g} WCU + {rename['index_wcu']:g} index WCU.\n"
    )
    print("### Export (`GET /me/export`, every page) and erase (`DELETE /me`, every call)\n")
    print("| data | export: requests | export pages | erase: requests | erase calls | erased | items left |")
    print("|---|---|---:|---|---:|---|---:|")
    for row in report["account"]:
        erased = ", ".join(f"{k} {v:,}" for k, v in row["erased"].items() if v)
        print(
            f"| {row['work']} | {row['export']['requests']:,} ({row['export']['ops']}) | {row['export_pages']} "
            f"| {row['erase']['requests']:,} ({row['erase']['ops']}) | {row['erase_calls']} | {erased} "
            f"| {row['left_after_erase']} |"
        )
    print("\n<!-- raw: " + json.dumps(report, default=str) + " -->")


if __name__ == "__main__":
    main()
