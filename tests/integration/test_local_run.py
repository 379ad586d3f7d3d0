"""`scripts/run-local.sh serve` end to end: a real HTTP server, DynamoDB Local, clean shutdown on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.template import function_spec
from tests.integration.local_server import request as local_request
from tests.integration.local_server import start_server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not function_spec("AgentChatFunction").handler_file.is_file(),
        reason="functions/agent_chat/chat_app.py is not written yet",
    ),
]


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    served = start_server(tmp_path / "local")
    try:
        yield served.proc, served.url
    finally:
        served.stop()


def request(url: str, method: str = "GET", body: object = None, actor: str | None = "alice") -> tuple[int, object]:
    status, payload, _ = local_request(url, method, body, actor)
    return status, payload


def test_serve_answers_the_chat_api_and_stops_cleanly_on_ctrl_c(server):
    proc, url = server
    java = {pid for pid in children_of(proc.pid) if "java" in Path(f"/proc/{pid}/cmdline").read_bytes().decode()}
    assert java, "DynamoDB Local should run as a child of the server"

    status, created = request(f"{url}/sessions", "POST", {"state": {"topic": "trip"}})
    assert status == 201
    session_id = created["session_id"]

    status, answered = request(f"{url}/sessions/{session_id}/messages", "POST", {"message": "Hi, I am Alice"})
    assert status == 200
    assert answered["session_id"] == session_id
    assert answered["message_count"] == 1
    assert answered["reply"]

    status, page = request(f"{url}/sessions/{session_id}/messages?limit=10")
    assert status == 200
    assert [m["role"] for m in page["messages"]] == ["user", "assistant"]
    assert page["messages"][0]["content"] == "Hi, I am Alice"

    assert request(f"{url}/sessions/{session_id}", actor=None)[0] == 401
    assert request(f"{url}/sessions/{session_id}", actor="mallory")[0] == 404
    assert request(f"{url}/no/such/route")[0] == 404

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in java) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in java), "DynamoDB Local outlived the server"
