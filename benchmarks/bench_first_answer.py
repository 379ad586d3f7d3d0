"""Time to first answer of ``scripts/run-local.sh``: from launching it to the first ``201`` of ``POST /sessions``.

Usage: ``python -m benchmarks.bench_first_answer [--repo PATH] [--runs N]``. Run it in a fresh clone for the
first-run figure (it then includes installing ``.venv`` and DynamoDB Local); later runs show the usual start-up.
Only uses stdlib, so it can run with any Python 3 before ``.venv`` exists.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_answer(repo: Path, timeout_s: float = 900) -> float:
    """Seconds from launching run-local to the first created session; the server is stopped afterwards."""
    port = free_port()
    log = (repo / ".local" / "bench-first-answer.log").resolve()
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/run-local.sh", "serve", "--port", str(port)],
            cwd=repo,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    body = json.dumps({}).encode()
    try:
        while time.monotonic() - started < timeout_s:
            if proc.poll() is not None:
                raise RuntimeError(f"run-local exited with {proc.returncode}; see {log}")
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/sessions",
                data=body,
                method="POST",
                headers={"content-type": "application/json", "X-Local-Actor": "bench"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    if response.status == 201:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"no answer within {timeout_s} s; see {log}")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="the checkout to run (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| run | time to first answer |\n|---:|---:|")
    for run in range(1, args.runs + 1):
        print(f"| {run} | {first_answer(args.repo.resolve()):.1f} s |", flush=True)


if __name__ == "__main__":
    main()
