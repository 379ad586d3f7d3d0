"""``scripts/run-local.sh serve`` as a subprocess for end-to-end tests (its own state dir, output in a file)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.dynamodb_local import free_port
from devtools.template import REPO_ROOT


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    state_dir: Path
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace")

    def errors(self) -> str:
        return self.stderr.read_text(errors="replace")

    def stop(self) -> None:
        """Ctrl-C, as a user would (the server then stops its DynamoDB Local); SIGKILL only if that fails."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def environment(state_dir: Path) -> dict[str, str]:
    """The caller's environment without AWS settings, with run-local's state in ``state_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["CHATSTATE_LOCAL_DIR"] = str(state_dir)
    return env


def start_server(state_dir: Path, *args: str, timeout: float = 90) -> Served:
    """Start ``devtools.cli serve`` on a free port and wait until it answers HTTP."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    stdout, stderr = state_dir / "serve.out", state_dir / "serve.err"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.cli", "serve", "--port", str(port), *args],
        cwd=REPO_ROOT,
        env=environment(state_dir),
        stdout=stdout.open("wb"),
        stderr=stderr.open("wb"),
    )
    served = Served(proc, f"http://127.0.0.1:{port}", state_dir, stdout, stderr)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited early with {proc.returncode}:\n{served.output()}\n{served.errors()}")
        try:
            urllib.request.urlopen(f"{served.url}/_local/info", timeout=2).close()
            return served
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                served.stop()
                raise RuntimeError(f"serve did not answer within {timeout} s:\n{served.output()}") from None
            time.sleep(0.3)


def request(
    url: str, method: str = "GET", body: object = None, actor: str | None = "alice"
) -> tuple[int, Any, dict[str, str]]:
    """One JSON request; returns (status, parsed body or None, headers)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    if actor:
        req.add_header("X-Local-Actor", actor)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None, dict(exc.headers)
