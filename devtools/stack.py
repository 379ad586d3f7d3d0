"""The local stack: a DynamoDB endpoint, the session table from the template, and the functions in-process.

A running ``serve`` records its DynamoDB endpoint in ``.local/server.json`` so that ``invoke`` (another process)
can use the same data instead of a throwaway DynamoDB Local.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from devtools.dynamodb_local import FAKE_CREDENTIALS, DynamoDBLocal, DynamoDBLocalError, local_client
from devtools.lambda_env import LocalFunction, apply_environment, local_environment
from devtools.template import REPO_ROOT, create_session_table, function_spec

LOCAL_TABLE = "chatstate-local-sessions"
CHAT_FUNCTION = "AgentChatFunction"
LEX_FUNCTION = "LexFulfillmentFunction"
STATE_DIR_ENV = "CHATSTATE_LOCAL_DIR"
"""Overrides where run-local keeps its state and logs (default ``<repo>/.local``; the tests use a temp dir)."""


def state_dir() -> Path:
    """``$CHATSTATE_LOCAL_DIR`` or ``<repo>/.local`` (git-ignored)."""
    return Path(os.environ.get(STATE_DIR_ENV) or REPO_ROOT / ".local")


def server_state_file() -> Path:
    """Written by a running ``serve``, removed when it stops."""
    return state_dir() / "server.json"


class EndpointUnreachable(DynamoDBLocalError):
    """Nothing answers DynamoDB requests at the given endpoint."""


def ensure_table(endpoint_url: str, table_name: str = LOCAL_TABLE) -> bool:
    """Create ``table_name`` from template.yaml's SessionTable unless it exists; True when it was created.

    Raises:
        EndpointUnreachable: nothing answers at ``endpoint_url`` (one line, no traceback).
    """
    client = local_client(endpoint_url)
    try:
        client.describe_table(TableName=table_name)
        return False
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    except BotoCoreError as exc:
        raise EndpointUnreachable(f"no DynamoDB answers at {endpoint_url} ({type(exc).__name__})") from None
    create_session_table(client, table_name)
    return True


def endpoint_answers(endpoint_url: str) -> bool:
    """True when a DynamoDB endpoint answers ListTables within a second."""
    config = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=2)
    client = boto3.client("dynamodb", endpoint_url=endpoint_url, config=config, **FAKE_CREDENTIALS)
    try:
        client.list_tables(Limit=1)
    except (BotoCoreError, ClientError):
        return False
    return True


@contextlib.contextmanager
def dynamodb_endpoint(endpoint_url: str | None) -> Iterator[str]:
    """``endpoint_url`` if given, else a DynamoDB Local started for the duration of the block."""
    if endpoint_url:
        yield endpoint_url
        return
    with DynamoDBLocal() as ddb:
        yield ddb.endpoint_url


def prepare_functions(
    logical_ids: list[str], endpoint_url: str, table_name: str, output: IO[str] | None = None
) -> dict[str, LocalFunction]:
    """Import the functions with the environment Lambda would give them (one process: the union of both)."""
    specs = [function_spec(logical_id, table_name=table_name) for logical_id in logical_ids]
    for spec in specs:
        apply_environment(local_environment(spec, endpoint_url))
    return {spec.logical_id: LocalFunction(spec, output) for spec in specs}


@dataclass(frozen=True)
class ServerState:
    """What a running ``serve`` tells other ``run-local`` commands."""

    pid: int
    url: str
    dynamodb_endpoint: str
    table: str

    def write(self, path: Path | None = None) -> None:
        path = path or server_state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self)) + "\n")

    @classmethod
    def read(cls, path: Path | None = None) -> ServerState | None:
        """The state of a ``serve`` that is still running, else ``None`` (a stale file is removed)."""
        path = path or server_state_file()
        try:
            state = cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not _running(state.pid):
            path.unlink(missing_ok=True)
            return None
        return state

    def remove(self, path: Path | None = None) -> None:
        """Remove the file if it is still this server's."""
        path = path or server_state_file()
        current = None
        with contextlib.suppress(OSError, ValueError):
            current = json.loads(path.read_text()).get("pid")
        if current == self.pid:
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
