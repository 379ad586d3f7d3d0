"""Shared cold-start helpers: the layer as ``sam build`` ships it, and timings taken in fresh interpreters.

``build_layer`` runs the layer's own Makefile target (``build-SessionLayer``: pip wheels, unchecked-hash ``.pyc``)
exactly as ``sam build`` does, except that the wheels are for *this* machine so they can be imported here (a
command-line ``LAYER_ARCH`` overrides the template's; SAM never passes one). ``run_fresh`` starts a new interpreter
per sample, like a Lambda cold start, and reads the timings the child prints as one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO / ".aws-sam" / "bench"

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
if sys.argv[1] == "-":
    import boto3, pydantic  # the bare baseline: what any boto3 + pydantic function imports
    print(json.dumps({"init_ms": (time.perf_counter() - t0) * 1000, "first_ms": 0.0}))
    raise SystemExit
import importlib
module = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
if sys.argv[2] == "null":  # import only: a library, no event to handle
    print(json.dumps({"init_ms": (t1 - t0) * 1000, "first_ms": 0.0}))
    raise SystemExit


class Context:  # what Lambda passes (the attributes Powertools and chatstate.deadline read)
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 10_000


response = module.lambda_handler(json.loads(sys.argv[2]), Context())
t2 = time.perf_counter()
ok = response.get("statusCode", 200) < 300 and "error" not in response
if not ok or response.get("sessionState", {}).get("intent", {}).get("state") == "Failed":
    raise SystemExit(f"first invocation failed: {response}")
print(json.dumps({"init_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000}))
"""


def host_architecture() -> str:
    """This machine as a Lambda architecture name."""
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def build_layer(dest: Path = BUILD_DIR / "SessionLayer") -> Path:
    """Build the layer with its Makefile (as ``sam build`` does) for this machine; the ``python`` directory."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    out = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-f",
            str(REPO / "layers" / "chatstate" / "Makefile"),
            "build-SessionLayer",
            f"ARTIFACTS_DIR={dest}",
            f"LAYER_ARCH={host_architecture()}",
            f"PYTHON={sys.executable}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"layer build failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return dest / "python"


def build_bench_packages(dest: Path = BUILD_DIR / "packages") -> Path:
    """``benchmarks/requirements.txt`` (libraries compared with, e.g. lex-helper) for this machine, compiled like
    the layer; their own dependencies are not installed: they resolve to the layer's and the runtime's copies."""
    if dest.exists():
        shutil.rmtree(dest)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--target",
            str(dest),
            "-r",
            str(REPO / "benchmarks" / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark packages not installable:\n{out.stderr[-2000:]}")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(dest)],
        check=True,
    )
    return dest


def copy_function(code_uri: Path, dest: Path) -> Path:
    """The function code as ``sam build`` copies it (no ``__pycache__``: Lambda's /var/task is read-only)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(code_uri, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def run_fresh(
    module: str | None, event: Mapping[str, object] | None, env: Mapping[str, str], paths: Sequence[Path]
) -> dict[str, float]:
    """Init (import) and first-invocation milliseconds of ``module`` in a new interpreter.

    ``module=None``: the bare baseline; ``event=None``: import ``module`` only (a library).
    """
    child_env = {
        **env,
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": os.environ.get("PATH", ""),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, module or "-", json.dumps(event)],
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{module}: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(samples: Sequence[dict[str, float]], key: str) -> float:
    """Median of one timing over the samples (``total`` = init + first)."""
    if key == "total":
        return statistics.median(s["init_ms"] + s["first_ms"] for s in samples)
    return statistics.median(s[key] for s in samples)


def heaviest_imports(module: str, env: Mapping[str, str], paths: Sequence[Path], top: int = 6) -> list[tuple[int, str]]:
    """The ``top`` direct imports of ``module`` by cumulative time (``-X importtime``, µs) in a fresh interpreter."""
    child_env = {**env, "PYTHONPATH": os.pathsep.join(str(p) for p in paths), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env={**child_env, "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    )
    found = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if len(name) - len(name.lstrip()) == 3:  # imported by the module itself
                found.append((int(parts[1]), name.strip()))
    return sorted(found, reverse=True)[:top]
