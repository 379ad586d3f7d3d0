"""What each function's Lambda Init imports and builds: what its own path uses, nothing more.

Each case imports a handler module in a fresh interpreter with Lambda's ``AWS_LAMBDA_INITIALIZATION_TYPE`` set (so
the store and its client are built, as in Lambda's Init) and lists the modules it must not have loaded and the
pydantic models it built. Models build their schemas on first use (``defer_build``): at an on-demand Init only the
settings read from the environment are built; the event, response and payload models wait for the first event that
uses them. When no request waits for Init (SnapStart's snapshot, provisioned concurrency), Init builds them all.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from devtools.template import REPO_ROOT

NEVER_AT_INIT = (
    "boto3",  # the DynamoDB client comes from botocore's own session
    "s3transfer",
    "chatstate.chat.bedrock",  # only when BEDROCK_MODEL_ID is set
    "chatstate.lex.agent",  # its thread pool: fallback turns with the agent on only
    "jwt",  # the token verifier imports PyJWT when a token arrives
)
"""Modules neither function loads during Init."""

ABSENT = {
    "lex_app": (
        *NEVER_AT_INIT,
        "aws_lambda_powertools.event_handler",  # the chat API's resolver (and asyncio, which it pulls in)
        "asyncio",
        "chatstate.chat.payloads",
        "chatstate.chat.service",
    ),
    "chat_app": (*NEVER_AT_INIT, "chatstate.lex", "chatstate.attributes", "lex_bot"),
}

BUILT_AT_INIT = {
    "lex_app": {"chatstate.settings.Settings", "chatstate.identity.IdentitySettings"},
    "chat_app": {"chatstate.settings.Settings"},
}
"""The only models whose schemas Init builds: the settings validated from the environment."""

PROBE = """
import json, sys
import {module}
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

ours = ("chatstate", "lex_bot", "lex_app", "chat_app", "chat_routes", "chat_dependencies")
print(json.dumps({{
    "loaded": [name for name in {absent!r} if name in sys.modules],
    "built": sorted(
        f"{{cls.__module__}}.{{cls.__qualname__}}"
        for cls in subclasses(BaseModel)
        if cls.__pydantic_complete__ and cls.__module__.split(".")[0] in ours
    ),
    "unbuilt": sorted(
        f"{{cls.__module__}}.{{cls.__qualname__}}"
        for cls in subclasses(BaseModel)
        if not cls.__pydantic_complete__ and cls.__module__.split(".")[0] in ours
    ),
    "client": {module}.dependencies().store._client is not None,
}}))
"""


def _init(module: str, initialization_type: str = "on-demand") -> dict[str, object]:
    env = {
        "PATH": "",
        "PYTHONPATH": "layers/chatstate:functions/lex_fulfillment:functions/agent_chat",
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "SESSION_TABLE_NAME": "t-init",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TOKEN_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
        "TOKEN_AUDIENCE": "example-client",
    }
    code = PROBE.format(module=module, absent=ABSENT[module])
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("module", sorted(ABSENT))
def test_init_loads_only_what_the_function_uses(module: str) -> None:
    init = _init(module)
    assert init["client"], "Init must still build the DynamoDB client"
    assert init["loaded"] == []


@pytest.mark.parametrize("module", sorted(BUILT_AT_INIT))
def test_init_builds_only_the_settings_models(module: str) -> None:
    built = _init(module)["built"]
    assert isinstance(built, list)
    assert set(built) == BUILT_AT_INIT[module]


@pytest.mark.parametrize("initialization_type", ["snap-start", "provisioned-concurrency"])
@pytest.mark.parametrize("module", sorted(ABSENT))
def test_an_init_no_request_waits_for_builds_every_model(module: str, initialization_type: str) -> None:
    """SnapStart's snapshot and provisioned concurrency: Init is off the request path, so it builds every schema."""
    init = _init(module, initialization_type)
    assert init["unbuilt"] == []
    assert init["loaded"] == []
    built = init["built"]
    assert isinstance(built, list)
    assert len(built) > len(BUILT_AT_INIT[module]) + 10


def test_every_model_builds_its_schema_on_first_use() -> None:
    """Every pydantic model of the layer and the functions sets ``defer_build``: importing one builds no schema."""
    import pkgutil

    from pydantic import BaseModel

    import chatstate

    for module in [info.name for info in pkgutil.walk_packages(chatstate.__path__, "chatstate.")]:
        importlib.import_module(module)
    for module in ("lex_bot.attributes", "chat_routes", "chat_app", "lex_app"):
        importlib.import_module(module)

    def subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *subclasses(direct))]

    ours = [
        cls for cls in subclasses(BaseModel) if cls.__module__.split(".")[0] in ("chatstate", "lex_bot", "chat_routes")
    ]
    assert len(ours) > 40
    assert [f"{cls.__module__}.{cls.__qualname__}" for cls in ours if not cls.model_config.get("defer_build")] == []


def test_the_errors_import_no_models() -> None:
    """Code that only catches or raises chatstate's errors pays for neither pydantic nor botocore."""
    code = (
        "import sys, chatstate.exceptions, chatstate.chat.errors; "
        "print([m for m in ('pydantic', 'botocore', 'chatstate.models') if m in sys.modules])"
    )
    env = {"PATH": "", "PYTHONPATH": "layers/chatstate"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
