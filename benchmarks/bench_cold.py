"""Cold start as users feel it: Init (handler import) + the first invocation, in a fresh interpreter, per function.

Every function runs with the layer as ``sam build`` ships it (``benchmarks.coldstart.build_layer``: the Makefile's
pip install + unchecked-hash ``.pyc``, wheels for this machine), their code copied without ``__pycache__``, the
template's environment and DynamoDB Local (started here); the first event really loads and writes a session. The
bare baseline is ``import boto3, pydantic`` in the same kind of interpreter, in the same run, interleaved. Each
function is measured as Lambda runs it (``AWS_LAMBDA_INITIALIZATION_TYPE`` set: the runtime and its boto3 client are
built during Init) and without that variable (everything built lazily in the first event), to show what moving the
work into Init changes. StrandsAgentFunction's own dependencies (``strands-agents``) come from this interpreter's
site-packages, where Lambda finds them in the function's code directory.

Usage: ``python -m benchmarks.bench_cold [--runs N]`` (``scripts/bench.sh`` runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any

from benchmarks.coldstart import BUILD_DIR, REPO, build_layer, copy_function, heaviest_imports, median, run_fresh
from devtools.dynamodb_local import DynamoDBLocal, local_client
from devtools.local import local_environment
from devtools.template import create_session_table, function_spec

TABLE = "bench-cold-sessions"
FUNCTIONS = {
    "LexFulfillmentFunction": ("lex_app", "lex_greeting"),
    "AgentChatFunction": ("chat_app", "chat_send_message"),
    "StrandsAgentFunction": ("strands_app", "strands_hello"),
}


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
    server = DynamoDBLocal().start()
    try:
        create_session_table(local_client(server.endpoint_url), TABLE)
        targets: dict[str, tuple[str | None, str | None, dict[str, str], list[Any]]] = {
            "bare": (None, None, {}, [layer])
        }
        for function_id, (module, event_name) in FUNCTIONS.items():
            spec = function_spec(function_id, table_name=TABLE)
            code = copy_function(spec.code_dir, BUILD_DIR / function_id)
            env = local_environment(spec, server.endpoint_url)
            targets[f"{function_id} lazy"] = (module, event_name, env, [code, layer])
            targets[function_id] = (
                module,
                event_name,
                {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"},
                [code, layer],
            )
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

    bare = median(samples["bare"], "total")
    print(f"## cold start (fresh interpreter, median of {args.runs}, Python {sys.version.split()[0]})\n")
    print("| cold start | Init (import) | first invocation | Init + first | x bare `import boto3, pydantic` |")
    print("|---|---:|---:|---:|---:|")
    print(f"| bare `import boto3, pydantic` | {bare:.0f} ms | - | {bare:.0f} ms | 1.0x |")
    for name, runs in samples.items():
        if name == "bare":
            continue
        init, first, total = (median(runs, key) for key in ("init_ms", "first_ms", "total"))
        label = name.replace(" lazy", " (everything lazy, in the first event)")
        print(f"| {label} | {init:.0f} ms | {first:.0f} ms | {total:.0f} ms | {total / bare:.1f}x |")

    for function_id, imports in breakdown.items():
        print(f"\nHeaviest direct imports of {function_id} during Init (-X importtime, cumulative):")
        for micros, name in imports:
            print(f"- {name}: {micros / 1000:.0f} ms")


if __name__ == "__main__":
    main()
