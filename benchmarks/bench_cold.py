"""Cold start as users feel it: Init (handler import) + the first invocation, in a fresh interpreter, per function.

Every function runs with the layer as ``sam build`` ships it (``benchmarks.coldstart.build_layer``: the Makefile's
pip install + unchecked-hash ``.pyc``, wheels for this machine), their code copied without ``__pycache__``, the
template's environment and DynamoDB Local (started here); the first event really loads and writes a session. The
bare baseline is ``import boto3, pydantic`` in the same kind of interpreter, in the same run, interleaved. Each
function is measured as Lambda runs it on demand (``AWS_LAMBDA_INITIALIZATION_TYPE=on-demand``: the runtime and its
DynamoDB client are built during Init), without that variable (everything built lazily in the first event), to show
what moving the work into Init changes, with Init ahead of requests (``snap-start``: every model is built during
Init too, as under SnapStart or provisioned concurrency), and beside a hand-built function doing the same work
without chatstate (``benchmarks/floor``: the same client, requests, Powertools Logger/Metrics/resolver and a pydantic
event model), the least this job costs. ``import lex_helper`` (lex-helper, the Lex V2 helper library, from
``benchmarks/requirements.txt``, installed into the benchmark's build directory only) is timed in the same run as a
reference for the Lex function's Init. StrandsAgentFunction's own dependencies (``strands-agents``) come from this
interpreter's site-packages, where Lambda finds them in the function's code directory.

Usage: ``python -m benchmarks.bench_cold [--runs N]`` (``scripts/bench.sh`` runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from benchmarks.coldstart import (
    BUILD_DIR,
    REPO,
    build_bench_packages,
    build_layer,
    copy_function,
    heaviest_imports,
    median,
    run_fresh,
)
from devtools.dynamodb_local import DynamoDBLocal, local_client
from devtools.local import local_environment
from devtools.template import create_session_table, function_spec

TABLE = "bench-cold-sessions"
FLOOR_DIR = REPO / "benchmarks" / "floor"
LEX_HELPER = "`import lex_helper` (lex-helper 0.0.3, import only)"
FUNCTIONS = {
    "LexFulfillmentFunction": ("lex_app", "lex_greeting"),
    "AgentChatFunction": ("chat_app", "chat_send_message"),
    "StrandsAgentFunction": ("strands_app", "strands_hello"),
}
FLOORS = {"LexFulfillmentFunction": "floor_lex", "AgentChatFunction": "floor_chat"}
"""Hand-built functions doing the same work without chatstate (``benchmarks/floor``): the least this job costs."""


def first_event(name: str) -> dict[str, Any]:
    """The function's sample event with a session id of its own (every run starts a new session)."""
    event = json.loads((REPO / "events" / f"{name}.json").read_text())
    session = f"s-{uuid.uuid4().hex[:16]}"
    if "sessionId" in event:
        event["sessionId"] = session
    elif "session_id" in event:
        event["session_id"] = session
    else:
        event["pathParameters"]["session_id"] = session
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/sessions/{session}/messages"
    return event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    layer = build_layer()
    try:
        packages: Path | None = build_bench_packages()
    except RuntimeError as exc:
        packages = None
        print(f"(lex-helper row skipped: {str(exc).splitlines()[0]})", file=sys.stderr)
    server = DynamoDBLocal().start()
    load_before = os.getloadavg()[0]
    try:
        create_session_table(local_client(server.endpoint_url), TABLE)
        targets: dict[str, tuple[str | None, str | None, dict[str, str], list[Any]]] = {
            "bare": (None, None, {}, [layer])
        }
        if packages is not None:
            targets[LEX_HELPER] = ("lex_helper", None, {}, [packages, layer])
        for function_id, (module, event_name) in FUNCTIONS.items():
            spec = function_spec(function_id, table_name=TABLE)
            code = copy_function(spec.code_dir, BUILD_DIR / function_id)
            env = local_environment(spec, server.endpoint_url)
            targets[f"{function_id} lazy"] = (module, event_name, env, [code, layer])
            lambda_env = {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}
            targets[function_id] = (module, event_name, lambda_env, [code, layer])
            if function_id in FLOORS:  # Lex and chat: also Init as SnapStart or provisioned concurrency runs it
                ahead_env = {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
                targets[f"{function_id} ahead"] = (module, event_name, ahead_env, [code, layer])
                targets[f"{function_id} floor"] = (FLOORS[function_id], event_name, lambda_env, [FLOOR_DIR, layer])
        breakdown = {
            function_id: heaviest_imports(module, targets[function_id][2], targets[function_id][3])
            for function_id, (module, _) in FUNCTIONS.items()
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for module, event_name, env, paths in targets.values():  # one unmeasured run each: warm the disk cache
            run_fresh(module, first_event(event_name) if event_name else None, env, paths)
        for _ in range(args.runs):  # interleaved, so machine load affects every target alike
            for name, (module, event_name, env, paths) in targets.items():
                samples[name].append(run_fresh(module, first_event(event_name) if event_name else None, env, paths))
    finally:
        server.stop()
    load = (load_before + os.getloadavg()[0]) / 2

    bare = median(samples["bare"], "total")
    print(
        f"## cold start (fresh interpreter, median of {args.runs}, interleaved, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, load average ~{load:.1f})\n"
    )
    print("| cold start | Init (import) | first invocation | Init + first | x bare `import boto3, pydantic` |")
    print("|---|---:|---:|---:|---:|")
    print(f"| bare `import boto3, pydantic` | {bare:.0f} ms | - | {bare:.0f} ms | 1.00x |")
    for name, runs in samples.items():
        if name == "bare":
            continue
        init, first, total = (median(runs, key) for key in ("init_ms", "first_ms", "total"))
        label = (
            name.replace(" lazy", " (everything lazy, in the first event)")
            .replace(" floor", ": floor, hand-built without chatstate (same requests, Powertools, pydantic)")
            .replace(" ahead", ", Init ahead of requests (SnapStart snapshot, provisioned concurrency)")
        )
        first_cell = "-" if name == LEX_HELPER else f"{first:.0f} ms"
        print(f"| {label} | {init:.0f} ms | {first_cell} | {total:.0f} ms | {total / bare:.2f}x |")
    if LEX_HELPER in samples:
        lex_init = median(samples["LexFulfillmentFunction"], "init_ms")
        helper = median(samples[LEX_HELPER], "init_ms")
        ratio = lex_init / helper
        print(f"\nLex function's Init (handler import + clients, as Lambda runs it) / {LEX_HELPER}: {ratio:.2f}x")

    for function_id, imports in breakdown.items():
        print(f"\nHeaviest direct imports of {function_id} during Init (-X importtime, cumulative):")
        for micros, name in imports:
            print(f"- {name}: {micros / 1000:.0f} ms")


if __name__ == "__main__":
    main()
