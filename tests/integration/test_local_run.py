"""`scripts/run-local.sh serve` end to end: a real HTTP server, DynamoDB Local, clean shutdown on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.template import REPO_ROOT, function_spec
from tests.integration.local_server import Served, environment, start_server
from tests.integration.local_server import request as local_request

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
def served(tmp_path: Path) -> Iterator[Served]:
    server = start_server(tmp_path / "local")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(served: Served) -> tuple[subprocess.Popen[bytes], str]:
    return served.proc, served.url


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


def java_children(pid: int) -> set[int]:
    return {child for child in children_of(pid) if b"java" in Path(f"/proc/{child}/cmdline").read_bytes()}


def gone_within(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not any(alive(pid) for pid in pids)


@pytest.mark.parametrize("how", ["SIGHUP", "SIGTERM", "SIGKILL"])
def test_dynamodb_local_ends_with_the_run_however_it_ends(served: Served, how: str) -> None:
    """A closed terminal (SIGHUP), kill (SIGTERM) and a killed parent (SIGKILL) leave no DynamoDB Local behind."""
    java = java_children(served.proc.pid)
    assert java, "DynamoDB Local should run as a child of the server"
    served.proc.send_signal(getattr(signal, how))
    served.proc.wait(timeout=30)
    survived = not gone_within(java, 15)
    for pid in java if survived else ():  # do not leave the orphan running when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survived, f"DynamoDB Local outlived the server ({how})"
    if how != "SIGKILL":
        assert served.proc.returncode == 0
        assert "Traceback" not in served.errors()


def test_serve_logs_one_line_per_request_and_keeps_json_logs_in_a_file(served: Served) -> None:
    status, created = request(f"{served.url}/sessions", "POST", {})
    assert status == 201
    assert request(f"{served.url}/sessions/{created['session_id']}")[0] == 200
    assert request(f"{served.url}/sessions/x", "PUT")[0] == 404
    deadline = time.monotonic() + 10  # the access line is written once the response has gone out
    while "  PUT    /sessions/x  404  " not in served.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = served.output()
    assert "ready in" in log
    assert "  POST   /sessions  201  " in log
    assert f"  GET    /sessions/{created['session_id']}  200  " in log
    assert "  PUT    /sessions/x  404  " in log
    assert '"level"' not in log  # the functions' JSON logs are not mixed in
    assert served.errors() == ""  # no warnings, no tracebacks
    function_log = (served.state_dir / "logs" / "functions.log").read_text().splitlines()
    assert any(json.loads(line).get("message") == "session created" for line in function_log)


def run_local(*args: str, cwd: Path, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "run-local.sh"), *args],
        cwd=cwd,
        env=environment(state_dir),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_invoke_uses_the_running_servers_dynamodb_and_reads_events_from_the_callers_directory(
    served: Served, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    event = json.loads((REPO_ROOT / "events" / "chat_send_message.json").read_text())  # an HTTP API event
    event["rawPath"] = "/sessions/s-invoke-1/messages"
    event["pathParameters"] = {"session_id": "s-invoke-1"}
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = "alice"
    (work / "my_event.json").write_text(json.dumps(event))

    invoked = run_local("invoke", "AgentChatFunction", "-e", "my_event.json", cwd=work, state_dir=served.state_dir)
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(json.loads(invoked.stdout)["body"])["message_count"] == 1
    assert f"using the DynamoDB of the server at {served.url}" in invoked.stderr
    assert '"level"' not in invoked.stderr  # the function's JSON logs went to the log file
    assert "logs are in" in invoked.stderr
    status, view = request(f"{served.url}/sessions/s-invoke-1", actor="alice")
    assert status == 200
    assert view["message_count"] == 1

    served.stop()
    alone = run_local("invoke", "AgentChatFunction", "-e", "my_event.json", cwd=work, state_dir=served.state_dir)
    assert alone.returncode == 0, alone.stderr
    assert "no local server running" in alone.stderr
    assert json.loads(json.loads(alone.stdout)["body"])["message_count"] == 1  # a throwaway DynamoDB: a new session


def test_the_chat_event_files_work_in_sequence_against_a_running_server(served: Served) -> None:
    """chat_send_message.json creates the session the other HTTP event files address (same actor, same id)."""

    def invoke(name: str) -> dict:
        events = REPO_ROOT / "events"
        done = run_local("invoke", "AgentChatFunction", "-e", name, cwd=events, state_dir=served.state_dir)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert invoke("chat_send_message.json")["statusCode"] == 200
    assert invoke("chat_get_session.json")["statusCode"] == 200
    assert invoke("chat_list_messages.json")["statusCode"] == 200
    assert invoke("chat_delete_session.json")["statusCode"] == 204
    assert invoke("chat_get_session.json")["statusCode"] == 404


def test_invoking_the_lex_function_checks_its_response(served: Served) -> None:
    done = run_local(
        "invoke", "LexFulfillmentFunction", "-e", "events/lex_greeting.json", cwd=REPO_ROOT, state_dir=served.state_dir
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sessionState"]["dialogAction"]["type"] == "Close"
    assert "run-local: Lex would accept this response" in done.stderr


def test_lex_turns_in_the_local_log_carry_no_chat_request_id(served: Served) -> None:
    """Both functions share one process locally; a Lex turn's log lines carry only the Lex invocation's ids."""
    assert request(f"{served.url}/sessions", "POST", {})[0] == 201
    status, _, _ = local_request(f"{served.url}/_local/lex/turn", "POST", {"sessionId": "log-check", "text": "hello"})
    assert status == 200
    lines = [json.loads(line) for line in (served.state_dir / "logs" / "functions.log").read_text().splitlines()]
    chat_ids = {line["request_id"] for line in lines if line.get("message") == "session created"}
    lex_lines = [line for line in lines if line.get("message") == "lex turn"]
    assert chat_ids
    assert lex_lines
    assert all("request_id" not in line for line in lex_lines)
    assert all(line["function_name"].endswith("LexFulfillmentFunction") for line in lex_lines)


def test_demo_prints_answers_and_keeps_the_functions_logs_in_a_file(tmp_path: Path) -> None:
    done = run_local("demo", cwd=REPO_ROOT, state_dir=tmp_path / "local")
    assert done.returncode == 0, done.stderr
    assert "bot > [Close Greeting Fulfilled] Hello, Ana!" in done.stdout
    assert "POST /sessions -> 401" in done.stdout
    assert '"level"' not in done.stdout + done.stderr
    logged = (tmp_path / "local" / "logs" / "functions.log").read_text()
    assert '"message":"lex turn"' in logged
