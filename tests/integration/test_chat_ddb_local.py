"""agent_chat on DynamoDB Local: concurrent sends lose nothing, and the request budget is constant."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import chat_app
import pytest

from chatstate.chat import ChatService, EchoMemoryResponder
from chatstate.models import NewMessage, SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore
from devtools.dynamodb_local import local_client
from tests.unit.chat_support import call, http_event
from tests.wiring import TEST_SETTINGS

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics to publish")]


class RequestCounter:
    """Counts the HTTP requests (and their body bytes) a botocore client sends, by operation."""

    def __init__(self, client) -> None:
        self.lock = threading.Lock()
        self.operations: list[str] = []
        self.bytes = 0
        client.meta.events.register("before-send.dynamodb", self._on_send)

    def _on_send(self, request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        with self.lock:
            self.operations.append(target.rsplit(".", 1)[-1])
            self.bytes += len(request.body or b"")

    def reset(self) -> None:
        with self.lock:
            self.operations.clear()
            self.bytes = 0


@pytest.fixture
def wired(session_table, ddb_env):
    client = local_client(ddb_env)
    counter = RequestCounter(client)
    store = DynamoDBSessionStore(session_table, client=client)
    chat_app.configure(settings=TEST_SETTINGS, store=store, responder=EchoMemoryResponder())
    yield store, counter
    chat_app.configure()


def send(session_id: str, message: str, actor: str = "alice"):
    return call(http_event("POST", f"/sessions/{session_id}/messages", actor=actor, body={"message": message}))


def prefill(store: DynamoDBSessionStore, ref: SessionRef, messages: int) -> None:
    for start in range(0, messages, 50):
        batch = []
        for i in range(start, min(start + 50, messages), 2):
            batch += [NewMessage(role="user", content=f"old {i}"), NewMessage(role="assistant", content=f"reply {i}")]
        store.append(ref, batch)


def _history(session_id: str) -> list[dict]:
    history, cursor = [], None
    while True:
        query = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        page = call(http_event("GET", f"/sessions/{session_id}/messages", query=query)).body
        history = page["messages"] + history
        cursor = page["next_cursor"]
        if not cursor:
            return history


def test_concurrent_sends_lose_and_duplicate_nothing(wired, session_table, ddb_env):
    """8 writers (each like its own Lambda environment: own service, store and client) x 5 messages."""
    threads, per_thread = 8, 5
    barrier = threading.Barrier(threads)

    def worker(t: int) -> list[int]:
        service = ChatService(DynamoDBSessionStore(session_table, client=local_client(ddb_env)), EchoMemoryResponder())
        barrier.wait()
        return [
            service.send_message(service.ref("alice", "busy"), f"t{t}-m{i}").message_count for i in range(per_thread)
        ]

    with ThreadPoolExecutor(threads) as pool:
        counts = [c for result in pool.map(worker, range(threads)) for c in result]
    total = threads * per_thread
    assert sorted(counts) == list(range(1, total + 1))  # every send saw a distinct count
    assert call(http_event("GET", "/sessions/busy")).body["message_count"] == total
    history = _history("busy")
    assert len(history) == 2 * total
    users = [m["content"] for m in history if m["role"] == "user"]
    assert sorted(users) == sorted(f"t{t}-m{i}" for t in range(threads) for i in range(per_thread))
    assert [m["role"] for m in history] == ["user", "assistant"] * total  # each turn stored atomically
    for t in range(threads):  # each writer's messages in its own order
        assert [u for u in users if u.startswith(f"t{t}-")] == [f"t{t}-m{i}" for i in range(per_thread)]


def test_threaded_in_process_http_calls_stay_correct(wired):
    """An in-process threaded runner calling lambda_handler concurrently never mixes requests up."""

    def worker(t: int) -> list[str]:
        return [send("shared", f"t{t}-m{i}").body["reply"] for i in range(3)]

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(worker, range(4)))
    for t, mine in enumerate(replies):
        assert all(f'"t{t}-m{i}"' in reply for i, reply in enumerate(mine))
    users = [m["content"] for m in _history("shared") if m["role"] == "user"]
    assert sorted(users) == sorted(f"t{t}-m{i}" for t in range(4) for i in range(3))


@pytest.mark.parametrize("prior", [10, 1_000])
def test_send_costs_two_requests_whatever_the_history(wired, prior):
    store, counter = wired
    prefill(store, SessionRef.of("alice", "long"), prior)
    counter.reset()
    result = send("long", "one more")
    assert result.status == 200
    assert result.body["message_count"] == prior // 2 + 1
    assert counter.operations == ["Query", "PutItem"]  # one item per turn, conditioned on its turn number


def test_list_messages_costs_one_request(wired):
    store, counter = wired
    prefill(store, SessionRef.of("alice", "paged"), 30)
    counter.reset()
    page = call(http_event("GET", "/sessions/paged/messages", query={"limit": "10"}))
    assert page.status == 200
    assert len(page.body["messages"]) == 10
    assert len(counter.operations) == 1
    counter.reset()
    older = call(
        http_event("GET", "/sessions/paged/messages", query={"limit": "10", "cursor": page.body["next_cursor"]})
    )
    assert older.status == 200
    assert len(counter.operations) <= 2  # the store validates the cursor's incarnation: GetItem + Query


def test_idempotent_retry_on_dynamodb(wired):
    _, counter = wired
    headers = {"Idempotency-Key": "retry-1"}
    first = call(http_event("POST", "/sessions/idem/messages", body={"message": "hi"}, headers=headers))
    counter.reset()
    again = call(http_event("POST", "/sessions/idem/messages", body={"message": "hi"}, headers=headers))
    assert again.body == first.body
    assert counter.operations == ["Query", "GetItem", "Query"]  # load, the key's record, the turn: no write
    reused = call(http_event("POST", "/sessions/idem/messages", body={"message": "other"}, headers=headers))
    assert reused.status == 422
    assert reused.body["error"]["code"] == "idempotency_key_reused"
    assert len(call(http_event("GET", "/sessions/idem/messages")).body["messages"]) == 2
