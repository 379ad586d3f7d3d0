"""The `sam local invoke` recipe of docs/deploying.md, checked with SAM CLI's own code (run with .venv-sam's Python).

SAM CLI resolves a function's environment itself (SamFunctionProvider + EnvironmentVariables): a value it cannot
resolve, such as an ``Fn::If`` with an ``AWS::NoValue`` branch, silently becomes "" and the container would talk to
real DynamoDB. This asserts that both documented ways to point the functions at DynamoDB Local reach the container:
``--parameter-overrides LocalDynamoDBEndpoint=...`` and ``--env-vars`` (with SESSION_TABLE_NAME), and that a plain
run leaves the endpoint empty (botocore then uses the regional endpoint).
"""

from __future__ import annotations

import sys
from pathlib import Path

from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.lambdafn.env_vars import EnvironmentVariables

TEMPLATE = str(Path(__file__).resolve().parent.parent / "template.yaml")
ENDPOINT = "http://host.docker.internal:8000"
FUNCTIONS = ("LexFulfillmentFunction", "AgentChatFunction", "StrandsAgentFunction")


def container_env(function_id: str, overrides: dict[str, str], env_vars: dict[str, str]) -> dict[str, str]:
    stacks, _ = SamLocalStackProvider.get_stacks(TEMPLATE, parameter_overrides=overrides)
    function = SamFunctionProvider(stacks).get(function_id)
    if function is None:
        raise SystemExit(f"{function_id} not found by SAM CLI")
    variables = (function.environment or {}).get("Variables") or {}
    return EnvironmentVariables(
        function.name, function.memory, function.timeout, function.handler, variables=variables,
        override_values=env_vars,
    ).resolve()  # fmt: skip


def main() -> int:
    failures = []
    for function_id in FUNCTIONS:
        cases = {
            "plain": ({}, {}, ""),
            "--parameter-overrides": ({"LocalDynamoDBEndpoint": ENDPOINT}, {}, ENDPOINT),
            "--env-vars": ({}, {"AWS_ENDPOINT_URL_DYNAMODB": ENDPOINT, "SESSION_TABLE_NAME": "t"}, ENDPOINT),
        }
        for case, (overrides, env_vars, expected) in cases.items():
            env = container_env(function_id, overrides, env_vars)
            if env.get("AWS_ENDPOINT_URL_DYNAMODB") != expected:
                failures.append(
                    f"{function_id} {case}: AWS_ENDPOINT_URL_DYNAMODB={env.get('AWS_ENDPOINT_URL_DYNAMODB')!r}"
                )
            if env_vars and env.get("SESSION_TABLE_NAME") != "t":
                failures.append(f"{function_id} {case}: SESSION_TABLE_NAME={env.get('SESSION_TABLE_NAME')!r}")
    for failure in failures:
        print(f"sam local check FAILED: {failure}", file=sys.stderr)
    if not failures:
        print(
            "sam local check: endpoint reaches every function via --parameter-overrides and --env-vars", file=sys.stderr
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
