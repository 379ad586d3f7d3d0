"""Strands session managers side by side: requests, billed capacity and lost messages per agent invocation.

Run: ``scripts/bench.sh`` (it creates ``.venv-bench`` with the peer packages of ``benchmarks/peers.txt``), or
``.venv-bench/bin/python -m benchmarks.bench_strands`` once that venv exists. Peers that are not installed are
skipped with a note. No AWS: DynamoDB Local (started here) for the DynamoDB backends, moto for S3.

Backends: chatstate's ``DynamoDBSessionManager``; Strands' ``S3SessionManager`` (moto S3) and
``FileSessionManager``; ``strands-session-dynamodb`` (``strands-dynamodb-session-manager`` re-exports the same
classes); ``strands-dynamodb-storage`` behind Strands' ``SnapshotSessionManager``. Every agent runs a scripted
model (no Bedrock) answering a 120-character prompt with 480 characters (a 600-byte exchange), the tool call
being one ``find_flights`` request and its result.

Figures, per backend and history length (10, 100, 1,000 messages), for a Lambda-style invocation in a fresh
process: the restore (a new manager and ``Agent``), then one invocation without tools and one with a tool call.
Requests are counted from botocore's ``before-send`` events (retries included) or, for files, the file reads,
writes and directory listings. DynamoDB write and read units are billed by DynamoDB's rules from the real item
sizes (``chatstate.store.capacity``), not taken from the emulator: a write costs the larger of the item's images
before and after it. Then two writers run 50 invocations each on one session at once (each a fresh restore and an
invocation); a message is lost when its invocation answered but the message is not in the stored history.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from strands import Agent, tool
from strands.agent.conversation_manager import NullConversationManager, SlidingWindowConversationManager

from chatstate.store import capacity
from chatstate.strands.scripted import ScriptedModel, text, tool_call
from devtools.dynamodb_local import FAKE_CREDENTIALS, DynamoDBLocal, local_client
from devtools.template import create_session_table

HISTORY_SIZES = (10, 100, 1000)
WRITERS, INVOCATIONS = 2, 50
PROMPT = ("How do I change my flight to Lisbon on the 14th? " * 3)[:110]
ANSWER = ("You can change it in Manage booking: pick the flight, choose a new date, pay any fare difference. " * 5)[
    :470
]
REGION = FAKE_CREDENTIALS["region_name"]


@tool
def find_flights(departure_city: str, arrival_city: str) -> str:
    """Find flights between two cities."""
    return f"CS123 {departure_city}-{arrival_city} 09:40, CS456 13:15"


def script(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers each prompt with a 470-character reply naming it; prompts starting with ``tool`` call find_flights."""
    last = messages[-1]["content"]
    if any("toolResult" in block for block in last):
        return text("Two flights: CS123 at 09:40 and CS456 at 13:15. " + ANSWER[:400])
    prompt = next(block["text"] for block in last if "text" in block)
    tag = prompt.split(" ", 1)[0]
    if tag.startswith("tool"):
        return tool_call("find_flights", {"departure_city": "Lisbon", "arrival_city": "Porto"}, f"t-{uuid.uuid4().hex}")
    return text(f"[{tag}] {ANSWER}")


def prompt(tag: str) -> str:
    return f"{tag} {PROMPT}"[:120]


# -- metering ---------------------------------------------------------------------------------------------------
@dataclass
class Meter:
    """Requests by operation; DynamoDB write/read units billed from item sizes (an inspect client reads images)."""

    inspect: Any = None
    ops: Counter[str] = field(default_factory=Counter)
    wcu: float = 0.0
    rcu: float = 0.0
    _keys: dict[str, list[str]] = field(default_factory=dict)
    _pending: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)
    _before: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, events: Any, service: str) -> None:
        """Count the requests of every client created from ``events`` (a boto3 session's or a client's)."""
        events.register(f"before-send.{service}", self._before_send)
        if service == "dynamodb":
            events.register("after-call.dynamodb", self._after_call)

    def count(self, operation: str) -> None:
        with self._lock:
            self.ops[operation] += 1

    def _key_names(self, table: str) -> list[str]:
        if table not in self._keys:
            schema = self.inspect.describe_table(TableName=table)["Table"]["KeySchema"]
            self._keys[table] = [k["AttributeName"] for k in schema]
        return self._keys[table]

    def _image(self, table: str, key: dict[str, Any]) -> int:
        item = self.inspect.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return capacity.item_size(item) if item else 0

    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.count(operation)
        if self.inspect is None or operation not in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
            if operation == "TransactWriteItems" and self.inspect is not None:
                body = json.loads(request.body or b"{}")
                entries = [next(iter(e.values())) for e in body.get("TransactItems", [])]
                self._writes([(p["TableName"], p, True) for p in entries])
            return
        body = json.loads(request.body or b"{}")
        if operation == "BatchWriteItem":
            entries = []
            for table, requests in body.get("RequestItems", {}).items():
                for entry in requests:
                    inner = entry.get("PutRequest") or entry.get("DeleteRequest")
                    entries.append((table, inner, False))
            self._writes(entries)
        else:
            self._writes([(body["TableName"], body, False)])

    def _writes(self, entries: list[tuple[str, dict[str, Any], bool]]) -> None:
        pending = []
        for table, params, transactional in entries:
            source = params.get("Key") or params.get("Item") or {}
            key = {name: source[name] for name in self._key_names(table)}
            pending.append((table, key, transactional))
        self._pending = pending
        self._before = [self._image(table, key) for table, key, _ in pending]

    def _after_call(self, http_response: Any, parsed: dict[str, Any], model: Any = None, **_: Any) -> None:
        if self.inspect is None or http_response.status_code != 200:
            self._pending, self._before = [], []
            return
        name = getattr(model, "name", "")
        if name in ("Query", "GetItem", "Scan"):
            found = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
            consistent = bool(getattr(self, "_consistent", True))
            self.rcu += capacity.read_units(capacity.items_size(found), consistent=consistent)
        for (table, key, transactional), before in zip(self._pending, self._before, strict=True):
            self.wcu += capacity.write_units(max(before, self._image(table, key)), transactional=transactional)
        self._pending, self._before = [], []

    def take(self) -> dict[str, Any]:
        """What was counted since the last take (then starts afresh)."""
        with self._lock:
            row = {"requests": sum(self.ops.values()), "ops": dict(self.ops), "wcu": self.wcu, "rcu": self.rcu}
            self.ops, self.wcu, self.rcu = Counter(), 0.0, 0.0
        return row


class ConsistencyAwareMeter(Meter):
    """A meter that bills eventually consistent reads at half (reads the request's ``ConsistentRead``)."""

    def _before_send(self, request: Any, event_name: str = "", **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation in ("Query", "GetItem", "Scan"):
            body = json.loads(request.body or b"{}")
            self._consistent = bool(body.get("ConsistentRead"))
        super()._before_send(request, event_name=event_name, **kwargs)


# -- backends ---------------------------------------------------------------------------------------------------
@dataclass
class Backend:
    """How to build one backend's session manager for a session, and its meter."""

    name: str
    make: Callable[[str], Any]
    meter: Meter
    stored_messages: Callable[[str], list[dict[str, Any]]]
    units: bool = True


def dynamodb_session(meter: Meter) -> boto3.session.Session:
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        region_name=REGION,
    )
    meter.attach(session.events, "dynamodb")
    return session


def chatstate_backend(endpoint: str) -> Backend:
    from chatstate.strands import DynamoDBSessionManager

    inspect = local_client(endpoint)
    create_session_table(inspect, "bench-chatstate")
    meter = ConsistencyAwareMeter(inspect=inspect)
    client = dynamodb_session(meter).client("dynamodb", endpoint_url=endpoint)

    def make(session_id: str) -> Any:
        return DynamoDBSessionManager(session_id, table_name="bench-chatstate", client=client)

    def stored(session_id: str) -> list[dict[str, Any]]:
        manager = DynamoDBSessionManager(session_id, table_name="bench-chatstate", client=inspect)
        return [m.to_message() for m in manager.list_messages(session_id, "default")]

    return Backend("chatstate DynamoDBSessionManager", make, meter, stored)


def session_dynamodb_backend(endpoint: str) -> Backend | None:
    try:
        from strands_session_dynamodb import DynamoDBSessionManager as PeerManager
    except ImportError:
        return None
    inspect = local_client(endpoint)
    meter = ConsistencyAwareMeter(inspect=inspect)
    session = dynamodb_session(meter)

    def make(session_id: str) -> Any:
        return PeerManager(
            session_id, "bench-session-dynamodb", boto_session=session, endpoint_url=endpoint, ttl_seconds=86_400
        )

    make("warmup")  # creates its table
    meter.take()

    def stored(session_id: str) -> list[dict[str, Any]]:
        manager = make(session_id)
        return [m.to_message() for m in manager.list_messages(session_id, "default")]

    return Backend("strands-session-dynamodb 0.2.0", make, meter, stored)


def dynamodb_storage_backend(endpoint: str) -> Backend | None:
    try:
        from strands_dynamodb_storage import DynamoDBStorage
    except ImportError:
        return None
    from strands.session import SnapshotSessionManager

    inspect = local_client(endpoint)
    inspect.create_table(
        TableName="bench-dynamodb-storage",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    meter = ConsistencyAwareMeter(inspect=inspect)
    client = dynamodb_session(meter).client("dynamodb", endpoint_url=endpoint)
    storage = DynamoDBStorage("bench-dynamodb-storage", client=client, ttl_seconds=86_400)

    def make(session_id: str) -> Any:
        return SnapshotSessionManager(session_id, storage=storage)

    def stored(session_id: str) -> list[dict[str, Any]]:
        agent = Agent(
            model=ScriptedModel(script),
            session_manager=make(session_id),
            conversation_manager=NullConversationManager(),
            callback_handler=None,
        )
        return list(agent.messages)

    return Backend("strands-dynamodb-storage 0.2.0 (SnapshotSessionManager)", make, meter, stored)


@contextlib.contextmanager
def s3_backend() -> Iterator[Backend]:
    from moto import mock_aws
    from strands.session import S3SessionManager

    with mock_aws():
        meter = Meter()
        session = boto3.session.Session(region_name=REGION)
        meter.attach(session.events, "s3")
        session.client("s3").create_bucket(Bucket="bench-sessions")
        meter.take()

        def make(session_id: str) -> Any:
            return S3SessionManager(session_id, bucket="bench-sessions", boto_session=session)

        def stored(session_id: str) -> list[dict[str, Any]]:
            return [m.to_message() for m in make(session_id).list_messages(session_id, "default")]

        yield Backend("Strands S3SessionManager (moto S3)", make, meter, stored, units=False)


@contextlib.contextmanager
def file_backend() -> Iterator[Backend]:
    from strands.session import FileSessionManager

    meter = Meter()
    directory = tempfile.mkdtemp(prefix="bench-strands-")

    class CountedFileSessionManager(FileSessionManager):
        def _read_file(self, path: str) -> dict[str, Any]:
            meter.count("read")
            return super()._read_file(path)

        def _write_file(self, path: str, data: dict[str, Any]) -> None:
            meter.count("write")
            super()._write_file(path, data)

        def list_messages(self, *args: Any, **kwargs: Any) -> list[Any]:
            meter.count("listdir")
            return super().list_messages(*args, **kwargs)

    def make(session_id: str) -> Any:
        return CountedFileSessionManager(session_id, storage_dir=directory)

    def stored(session_id: str) -> list[dict[str, Any]]:
        return [m.to_message() for m in make(session_id).list_messages(session_id, "default")]

    try:
        yield Backend("Strands FileSessionManager", make, meter, stored, units=False)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- scenarios --------------------------------------------------------------------------------------------------
def agent_for(backend: Backend, session_id: str, **kwargs: Any) -> Agent:
    return Agent(
        model=ScriptedModel(script),
        tools=[find_flights],
        session_manager=backend.make(session_id),
        callback_handler=None,
        retry_strategy=None,
        **kwargs,
    )


def unbounded() -> SlidingWindowConversationManager:
    """A conversation manager that never trims (same class as the default, so sessions restore with it)."""
    return SlidingWindowConversationManager(window_size=1_000_000)


def invocation_costs(backend: Backend) -> list[dict[str, Any]]:
    """Restore + one invocation (no tool, then one tool call) in a fresh process at each history length.

    Two sessions grow side by side: one with Strands' default conversation manager (a 40-message window), and one
    whose manager never trims, to measure restoring the whole history.
    """
    rows = []
    windowed, whole = f"cost-{uuid.uuid4().hex[:8]}", f"whole-{uuid.uuid4().hex[:8]}"
    writers = {
        windowed: agent_for(backend, windowed),
        whole: agent_for(backend, whole, conversation_manager=unbounded()),
    }
    held = 0
    whole_failed: str | None = None

    def grow_whole(tag: str) -> None:
        nonlocal whole_failed
        if whole_failed is None:
            try:
                writers[whole](prompt(tag))
            except Exception as exc:  # a backend that cannot hold the whole history: reported, not fatal
                whole_failed = f"fails: {type(exc).__name__}"

    for size in HISTORY_SIZES:
        while held < size:
            writers[windowed](prompt(f"p{held}"))
            grow_whole(f"p{held}")
            held += 2
        backend.meter.take()
        fresh = agent_for(backend, windowed)
        restore = backend.meter.take()
        fresh(prompt("plain"))
        plain = backend.meter.take()
        fresh(prompt("tool"))
        with_tool = backend.meter.take()
        writers[windowed] = fresh
        full: dict[str, Any] = {"failed": whole_failed}
        if whole_failed is None:
            writers[whole] = agent_for(backend, whole, conversation_manager=unbounded())
            full = backend.meter.take()
        grow_whole("plain")  # the same two invocations: both sessions keep the same length
        grow_whole("tool")
        backend.meter.take()
        held += 6
        rows.append({"history": size, "restore": restore, "plain": plain, "tool": with_tool, "whole": full})
    return rows


def two_writers(backend: Backend, *, retry: bool = False) -> dict[str, Any]:
    """Two writers x 50 invocations on one session at once, each invocation a fresh restore (a Lambda invocation).

    With ``retry``, a refused invocation is run again (a fresh restore) until it is stored, as a caller that gets
    chatstate's ``SessionConflict`` would.
    """
    session_id = f"race-{uuid.uuid4().hex[:8]}"
    inspect, backend.meter.inspect = backend.meter.inspect, None  # requests only: billing reads are not thread-safe
    agent_for(backend, session_id, conversation_manager=NullConversationManager())(prompt("start"))
    answered: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def write(name: str) -> None:
        for i in range(INVOCATIONS):
            tag = f"{name}{i}"
            while True:
                try:
                    agent = agent_for(backend, session_id, conversation_manager=NullConversationManager())
                    agent(prompt(tag))
                except Exception:  # a refused invocation is counted, as a caller would see it
                    with lock:
                        refused.append(tag)
                    if retry:
                        continue
                    break
                with lock:
                    answered.append(tag)
                break

    threads = [threading.Thread(target=write, args=(f"w{n}-",)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts = Counter()
    for message in backend.stored_messages(session_id):
        for block in message.get("content", []):
            if "text" in block:
                texts[block["text"].split(" ", 1)[0].strip("[]")] += 1
    lost = sum(max(0, 2 - texts[tag]) for tag in answered)
    backend.meter.take()
    backend.meter.inspect = inspect
    return {
        "answered": len(answered),
        "refused": len(refused),
        "expected": 2 * len(answered),
        "lost": lost,
    }


# -- report -----------------------------------------------------------------------------------------------------
def fmt_units(row: dict[str, Any], units: bool) -> str:
    if not units:
        return "n/a"
    return f"{row['wcu']:g} / {row['rcu']:g}"


def fmt_ops(row: dict[str, Any]) -> str:
    return ", ".join(f"{count} {op}" for op, count in sorted(row["ops"].items(), key=lambda kv: -kv[1]))


def report(results: list[tuple[Backend, list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]]) -> str:
    lines = [
        "### Per invocation, in a fresh process (restore, then invoke)",
        "",
        "| backend | history | restore: requests | restore RCU | invocation, no tool: requests (WCU / RCU) "
        "| one tool call: requests (WCU / RCU) | fresh-process turn: requests |",
        "|---|---:|---|---:|---|---|---:|",
    ]
    for backend, rows, _ in results:
        for row in rows:
            restore, plain, tool_row = row["restore"], row["plain"], row["tool"]
            lines.append(
                f"| {backend.name} | {row['history']} | {restore['requests']} ({fmt_ops(restore)}) "
                f"| {restore['rcu']:g} | {plain['requests']} ({fmt_units(plain, backend.units)}) "
                f"| {tool_row['requests']} ({fmt_units(tool_row, backend.units)}) "
                f"| {restore['requests'] + plain['requests']} |"
                if backend.units
                else f"| {backend.name} | {row['history']} | {restore['requests']} ({fmt_ops(restore)}) | n/a "
                f"| {plain['requests']} ({fmt_ops(plain)}) | {tool_row['requests']} ({fmt_ops(tool_row)}) "
                f"| {restore['requests'] + plain['requests']} |"
            )
    lines += [
        "",
        f"### {WRITERS} writers x {INVOCATIONS} invocations on one session at once",
        "",
        "| backend | answered | refused (error to the caller) | messages of answered invocations | lost |",
        "|---|---:|---:|---:|---:|",
    ]
    for backend, _, races in results:
        for label, race in races:
            share = f" ({100 * race['lost'] / race['expected']:.0f} %)" if race["expected"] else ""
            lines.append(
                f"| {backend.name}{label} | {race['answered']} | {race['refused']} | {race['expected']} "
                f"| {race['lost']}{share} |"
            )
    lines += [
        "",
        "### Restoring the whole history (a conversation manager that never trims): requests (RCU)",
        "",
        "| backend | " + " | ".join(f"{size} messages" for size in HISTORY_SIZES) + " |",
        "|---|" + "---:|" * len(HISTORY_SIZES),
    ]
    for backend, rows, _ in results:
        cells = [
            r["whole"]["failed"]
            if r["whole"].get("failed")
            else f"{r['whole']['requests']} ({r['whole']['rcu']:g} RCU)"
            if backend.units
            else str(r["whole"]["requests"])
            for r in rows
        ]
        lines.append(f"| {backend.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    results = []
    skipped = []
    with DynamoDBLocal() as ddb:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint_url
        for build in (chatstate_backend, session_dynamodb_backend, dynamodb_storage_backend):
            backend = build(ddb.endpoint_url)
            if backend is None:
                skipped.append(build.__name__)
                continue
            races = [("", two_writers(backend))]
            if build is chatstate_backend:
                races.append((", callers retry a refused invocation", two_writers(backend, retry=True)))
            results.append((backend, invocation_costs(backend), races))
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    for context in (s3_backend, file_backend):
        with context() as backend:
            results.append((backend, invocation_costs(backend), [("", two_writers(backend))]))
    print(report(results))
    if skipped:
        print(f"\n(not installed, skipped: {', '.join(skipped)}; scripts/bench.sh installs benchmarks/peers.txt)")


if __name__ == "__main__":
    main()
