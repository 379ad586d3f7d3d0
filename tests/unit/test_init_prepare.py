"""Lambda Init: both functions build their runtime and boto3 clients before the first event, best effort."""

from __future__ import annotations

import subprocess
import sys

import chat_app
import lex_app
import pytest

from devtools.template import REPO_ROOT
from tests.lexkit import assert_valid, lex_context, load_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def fresh_wiring(fake_aws_env, monkeypatch):
    monkeypatch.setenv("SESSION_TABLE_NAME", "init-sessions")
    lex_app.configure()
    chat_app.configure()
    yield
    lex_app.configure()
    chat_app.configure()


def test_lex_prepare_creates_the_store_client_before_any_event(fresh_wiring):
    lex_app.prepare()
    store = lex_app.dependencies().store
    assert store._client is not None
    assert store._client.meta.service_model.service_name == "dynamodb"


def test_chat_prepare_creates_the_service_and_its_client(fresh_wiring):
    chat_app.prepare()
    service = chat_app.dependencies().service
    assert service.store._client is not None


def test_a_failed_prepare_leaves_the_first_event_to_answer(fresh_wiring, monkeypatch):
    monkeypatch.delenv("SESSION_TABLE_NAME")
    lex_app.prepare()  # logs, does not raise: a failed Init would give Lex no response at all
    response = assert_valid(lex_app.lambda_handler(load_event("lex_greeting"), lex_context()))
    assert response["sessionState"]["dialogAction"]["type"] == "Close"
    chat_app.prepare()
    direct = chat_app.lambda_handler({"message": "hi", "session_id": "s", "actor_id": "a"}, None)
    assert direct["status"] == 500


ROOTS = [("lex_app", "lex_app"), ("chat_app", "chat_dependencies")]
"""Each handler module and the module holding its composition root."""


@pytest.mark.parametrize(("module", "root"), ROOTS)
def test_importing_outside_lambda_builds_nothing(module, root):
    """No import-time side effect unless Lambda's own AWS_LAMBDA_INITIALIZATION_TYPE is set."""
    built = f"{root}._root.current is not None or 'boto3' in sys.modules"
    code = f"import {module}, {root}, sys; sys.exit(1 if {built} else 0)"
    env = {"PYTHONPATH": "layers/chatstate:functions/lex_fulfillment:functions/agent_chat", "PATH": ""}
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=False).returncode == 0


@pytest.mark.parametrize(("module", "root"), ROOTS)
def test_importing_in_lambda_prepares_the_store_client(module, root):
    code = (
        f"import {module}, {root}, sys; parts = {root}._root.current; "
        "sys.exit(0 if parts is not None and parts.store._client is not None else 1)"
    )
    env = {
        "PYTHONPATH": "layers/chatstate:functions/lex_fulfillment:functions/agent_chat",
        "PATH": "",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "SESSION_TABLE_NAME": "t-init",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=False).returncode == 0
