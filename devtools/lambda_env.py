"""The Lambda execution environment, reproduced in-process: environment variables, the context object, and a
function imported from its template ``CodeUri``/``Handler`` with its layers on ``sys.path``.

Tests and benchmarks import :class:`LambdaContext` from here (not from the command line modules).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from devtools.dynamodb_local import FAKE_CREDENTIALS
from devtools.template import LOCAL_ACCOUNT, LOCAL_REGION, LOCAL_STACK, FunctionSpec, TemplateError


def local_environment(spec: FunctionSpec, endpoint_url: str) -> dict[str, str]:
    """The variables Lambda would set for ``spec`` (template env + runtime basics) plus the local endpoint."""
    return {
        **spec.environment,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_LAMBDA_FUNCTION_NAME": function_name(spec),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
    }


def apply_environment(variables: Mapping[str, str]) -> None:
    """Set ``variables`` in ``os.environ`` (no session token/profile may leak in from the caller's shell)."""
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(variables)


def function_name(spec: FunctionSpec) -> str:
    """The function name a deployed local stack would have."""
    return f"{LOCAL_STACK}-{spec.logical_id}"


@dataclass
class LambdaContext:
    """The attributes and method of Lambda's Python context object that handlers and Powertools use."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    log_group_name: str
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}")
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    @classmethod
    def for_function(cls, function_name: str, *, memory_limit_in_mb: int = 256, timeout_s: int = 30) -> LambdaContext:
        """A context for ``function_name`` as Lambda would build it in us-east-1 (tests, benchmarks)."""
        return cls(
            function_name=function_name,
            memory_limit_in_mb=memory_limit_in_mb,
            invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
            log_group_name=f"/aws/lambda/{function_name}",
            timeout_s=timeout_s,
        )


class LocalFunction:
    """A function imported exactly as Lambda would: its CodeUri and then its layers' directories on ``sys.path``.

    Invocations are serialised, like one Lambda execution environment. The function's own output (Powertools'
    JSON logs and metrics, which Lambda sends to CloudWatch) goes to ``output`` (default stderr), so stdout keeps
    only what the caller prints.
    """

    def __init__(self, spec: FunctionSpec, output: IO[str] | None = None) -> None:
        self.spec = spec
        self.output = output or sys.stderr
        self._lock = threading.Lock()
        if not spec.handler_file.is_file():
            raise TemplateError(f"{spec.logical_id}: {spec.handler_file} (CodeUri + Handler) does not exist")
        # Lambda's order: the function's code (/var/task) first, then the layers (/opt/python).
        for path in reversed((spec.code_dir, *spec.layer_dirs)):
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        # Powertools' Logger binds sys.stdout when it is created (at import): import with stdout on ``output``.
        with contextlib.redirect_stdout(self.output):
            module = importlib.import_module(spec.handler_module)
        self.handler: Callable[[Any, Any], Any] = getattr(module, spec.handler_function)

    def context(self) -> LambdaContext:
        """A fresh context for one invocation."""
        name = function_name(self.spec)
        return LambdaContext(
            function_name=name,
            memory_limit_in_mb=self.spec.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{name}",
            log_group_name=f"/aws/lambda/{name}",
            timeout_s=self.spec.timeout_s,
        )

    def invoke(self, event: Any) -> Any:
        """Call the handler with ``event`` and a context; exceptions propagate, as with a direct Lambda invoke."""
        with self._lock, contextlib.redirect_stdout(self.output):
            return self.handler(event, self.context())
