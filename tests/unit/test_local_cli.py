"""scripts/run-local.sh's command line and local server: one-line errors, ports, event paths, routing, access log."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import cli
from devtools.dynamodb_local import free_port
from devtools.gateway import ChatApiGateway
from devtools.server import AccessLog, LocalApp, LocalServer, PortInUse, Request
from devtools.stack import ServerState, server_state_file
from devtools.template import REPO_ROOT, function_spec


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHATSTATE_LOCAL_DIR", str(tmp_path / "local"))
    return tmp_path / "local"


# --- the command line --------------------------------------------------------------------------------------------


def test_every_command_is_a_subcommand_and_serve_is_the_default() -> None:
    help_text = cli.build_parser().format_help()
    assert all(command.name in help_text for command in cli.COMMANDS)
    command, args = cli.parse([])
    assert command.name == "serve"
    assert args.port is None
    assert args.table == "chatstate-local-sessions"
    command, args = cli.parse(["--table", "t1", "invoke", "AgentChatFunction", "-e", "x.json"])
    assert (command.name, args.table, args.table_given, args.event) == ("invoke", "t1", "t1", "x.json")


def test_an_explicit_port_that_is_taken_is_one_line_with_a_way_out(taken_port: int, capsys, state_dir: Path) -> None:
    assert cli.main(["serve", "--port", str(taken_port)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"run-local: port {taken_port} on 127.0.0.1 is already in use")
    assert "--port " in err
    assert not server_state_file().exists()


def test_a_taken_default_port_moves_to_the_next_free_one_and_says_so(taken_port: int) -> None:
    server, notice = LocalServer.bind(taken_port, fallback=True)
    try:
        assert server.server_address[1] != taken_port
        assert notice == f"port {taken_port} is in use; serving on {server.server_address[1]} instead"
    finally:
        server.server_close()
    with pytest.raises(PortInUse, match="already in use"):
        LocalServer.bind(taken_port, fallback=False)


def test_create_table_on_an_unreachable_endpoint_is_one_line(capsys) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    assert cli.main(["create-table", "--endpoint", endpoint]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"run-local: no DynamoDB answers at {endpoint}")
    assert "\n" not in err
    assert cli.main(["create-table"]) == 2
    assert "needs --endpoint" in capsys.readouterr().err


def test_event_paths_are_read_from_the_callers_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_event.json").write_text("{}")
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "lex_greeting.json").write_text("{}")
    monkeypatch.setenv(cli.CALLER_DIR_ENV, str(tmp_path))
    assert cli.event_path("my_event.json") == tmp_path / "my_event.json"
    assert cli.event_path("events/lex_greeting.json") == tmp_path / "events" / "lex_greeting.json"  # caller first
    monkeypatch.setenv(cli.CALLER_DIR_ENV, str(tmp_path / "events"))
    assert cli.event_path("events/chat_direct_invoke.json") == REPO_ROOT / "events" / "chat_direct_invoke.json"
    with pytest.raises(cli.CommandError, match=r"nope.json not found \(looked in"):
        cli.event_path("nope.json")


def test_invoke_with_a_missing_event_file_is_one_line(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(cli.CALLER_DIR_ENV, str(tmp_path))
    assert cli.main(["invoke", "AgentChatFunction", "-e", "missing.json"]) == 2
    assert capsys.readouterr().err.startswith("run-local: event file missing.json not found")


def test_server_state_is_ignored_once_its_process_is_gone(state_dir: Path) -> None:
    ServerState(pid=2**22 + 12345, url="http://127.0.0.1:1", dynamodb_endpoint="http://127.0.0.1:2", table="t").write()
    assert ServerState.read() is None
    assert not server_state_file().exists()
    mine = ServerState(pid=os.getpid(), url="u", dynamodb_endpoint="e", table="t")
    mine.write()
    assert ServerState.read() == mine
    mine.remove()
    assert not server_state_file().exists()


# --- the local server's routing ------------------------------------------------------------------------------------


class RecordingFunction:
    """Stands in for the chat function: records each event, answers 200."""

    def __init__(self) -> None:
        self.spec = function_spec("AgentChatFunction")
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}


@pytest.fixture
def app() -> tuple[LocalApp, RecordingFunction]:
    function = RecordingFunction()
    return LocalApp(ChatApiGateway(function)), function


def call(app: LocalApp, method: str, target: str, body: bytes = b"") -> tuple[int, bytes, dict[str, str]]:
    result = app.handle(Request(method, target, [("X-Local-Actor", "alice")], body))
    return result.status, result.body, dict(result.headers)


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/nope"),
        ("PUT", "/sessions/s1"),  # a known path with a method no route has
        ("PUT", "/sessions"),
        ("GET", "/sessions/s1/messages/extra"),
        ("POST", "/"),
        ("GET", "/../template.yaml"),
        ("GET", "/.hidden"),
        ("GET", "/_local/nope"),
    ],
)
def test_unknown_routes_and_methods_get_api_gateways_own_404(app, method: str, target: str) -> None:
    local_app, function = app
    status, body, headers = call(local_app, method, target)
    assert (status, json.loads(body), headers["content-type"]) == (404, {"message": "Not Found"}, "application/json")
    assert function.events == []  # API Gateway answers these itself: the function is never invoked


def test_routes_of_the_template_reach_the_function(app) -> None:
    local_app, function = app
    assert call(local_app, "GET", "/sessions/s1/messages?limit=5")[0] == 200
    [event] = function.events
    assert event["routeKey"] == "GET /sessions/{session_id}/messages"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "alice"


def test_the_page_and_its_files_are_served_without_a_build(app) -> None:
    local_app, function = app
    status, body, headers = call(local_app, "GET", "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b'<script src="app.js">' in body
    assert b"http://" not in body.replace(b"http://www.w3.org", b"")  # nothing loaded from elsewhere (no CDN)
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        status, _, headers = call(local_app, "GET", f"/{name}")
        assert (status, headers["content-type"]) == (200, f"{kind}; charset=utf-8")
    assert function.events == []


def test_local_endpoints_are_added_in_one_place(app) -> None:
    local_app, _ = app
    local_app.add_endpoint("POST", "echo", lambda request: (200, {"got": request.json()}))
    status, body, _ = call(local_app, "POST", "/_local/echo", b'{"a": 1}')
    assert (status, json.loads(body)) == (200, {"got": {"a": 1}})
    status, body, _ = call(local_app, "POST", "/_local/echo", b"{not json")
    assert status == 400
    assert call(local_app, "GET", "/_local/echo")[0] == 404


def test_the_access_log_is_one_readable_line_per_request() -> None:
    stream = io.StringIO()
    AccessLog(stream)("POST", "/sessions/s1/messages", 201, 0.0123)
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert line.endswith("  POST   /sessions/s1/messages  201  12 ms\n")


def test_a_port_held_by_another_run_local_names_it(taken_port: int, capsys, state_dir: Path) -> None:
    ServerState(os.getpid(), f"http://127.0.0.1:{taken_port}", "http://127.0.0.1:1", "t").write()
    assert cli.main(["serve", "--port", str(taken_port)]) == 2
    err = capsys.readouterr().err
    assert f"(another run-local, pid {os.getpid()}, serves http://127.0.0.1:{taken_port})" in err


# --- first-hour answers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["80000", "-1", "http"])
def test_a_port_that_is_no_port_is_a_usage_line_not_a_traceback(port: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--port", port])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("scripts/run-local.sh serve: error: argument --port: ")


def test_without_the_local_actor_header_the_401_names_it(app) -> None:
    local_app, function = app
    result = local_app.handle(Request("GET", "/sessions/s1", [], b""))
    error = json.loads(result.body)["error"]
    assert (result.status, error["code"]) == (401, "unauthorized")
    assert "X-Local-Actor" in error["message"]
    assert "JWT" in error["message"]
    assert function.events == []  # answered where the authorizer would answer it


def test_every_command_that_runs_a_function_takes_logs() -> None:
    parser = cli.build_parser()
    for argv in (["serve"], ["invoke", "AgentChatFunction", "-e", "x.json"], ["demo"], ["lex"]):
        assert parser.parse_args([*argv, "--logs"]).logs is True
        assert parser.parse_args(argv).logs is False


def test_the_lex_console_says_how_to_get_help_and_keeps_logs_in_a_file(state_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"CHATSTATE_LOCAL_DIR": str(state_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "devtools.cli", "lex", "--memory"],
        input="hello\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[:2]
    assert "/help" in first[1]
    assert "/reset" in first[1]
    assert "bot> Hello!" in done.stdout
    assert '"level"' not in done.stdout + done.stderr  # answers only
    logged = (state_dir / "logs" / "functions.log").read_text().splitlines()
    assert any(json.loads(line).get("message") == "lex turn" for line in logged if line.startswith('{"level"'))
