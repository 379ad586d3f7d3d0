"""``python -m devtools.local``: the entry point of ``scripts/run-local.sh`` (kept for existing callers).

The tooling is split by job: :mod:`devtools.lambda_env` (environment, ``LambdaContext``, ``LocalFunction``),
:mod:`devtools.gateway` (API Gateway HTTP API emulation), :mod:`devtools.server` (the local HTTP server and the
chat page), :mod:`devtools.stack` (DynamoDB endpoint, table, functions), :mod:`devtools.cli` (the command line)
and :mod:`devtools.demo`. Import from those; the names below are re-exported only for older imports.
"""

from __future__ import annotations

import sys

from devtools.gateway import (
    ACTOR_HEADER,
    ChatApiGateway,
    CompiledRoute,
    HttpResult,
    build_http_event,
    http_result,
    match_route,
)
from devtools.lambda_env import LambdaContext, LocalFunction, apply_environment, local_environment

__all__ = [
    "ACTOR_HEADER",
    "ChatApiGateway",
    "CompiledRoute",
    "HttpResult",
    "LambdaContext",
    "LocalFunction",
    "apply_environment",
    "build_http_event",
    "http_result",
    "local_environment",
    "match_route",
]

if __name__ == "__main__":
    from devtools.cli import main

    sys.exit(main())
