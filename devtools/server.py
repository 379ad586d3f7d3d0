"""The local HTTP server: the chat page, a few local-only JSON endpoints, and the chat API behind the gateway.

One request goes to the first of these that claims it:

1. ``/_local/<name>``: a JSON endpoint registered with :meth:`LocalApp.add_endpoint` (local only, never on AWS);
2. ``GET``/``HEAD`` of a file in ``devtools/web/`` (``/`` is ``index.html``): the chat page, plain files, no build;
3. everything else: :class:`devtools.gateway.ChatApiGateway`, which answers unknown routes and methods with
   API Gateway's own ``404 {"message":"Not Found"}``.

Each request is logged as one readable line (time, method, path, status, milliseconds). The server binds
127.0.0.1 only.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from devtools.gateway import NOT_FOUND, ChatApiGateway, HttpResult

WEB_DIR = Path(__file__).resolve().parent / "web"
LOCAL_PREFIX = "/_local/"
PORT_TRIES = 20
"""How many ports after a taken default port are tried."""


@dataclass(frozen=True)
class Request:
    """One HTTP request as the local server sees it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    client: str = "127.0.0.1"

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None


JsonEndpoint = Callable[[Request], tuple[int, Any]]
"""A local endpoint: the request in, ``(status, JSON-serialisable body)`` out."""


INTERNAL_ERROR = {"error": {"code": "internal_error", "message": "the local endpoint failed; see the server's stderr"}}


def _report(path: str, exc: Exception) -> None:
    """The failure's type and stack on stderr: no exception message, which may carry what the user typed."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    print(f"{path} failed with {type(exc).__name__}:\n{stack}", file=sys.stderr, flush=True)


def json_result(status: int, payload: Any) -> HttpResult:
    return HttpResult(status, [("content-type", "application/json")], json.dumps(payload).encode())


class LocalApp:
    """Routes one request to a local endpoint, a static file or the chat API (see the module docstring)."""

    def __init__(self, gateway: ChatApiGateway, *, web_dir: Path = WEB_DIR) -> None:
        self.gateway = gateway
        self.web_dir = web_dir.resolve()
        self.endpoints: dict[tuple[str, str], JsonEndpoint] = {}

    def add_endpoint(self, method: str, name: str, endpoint: JsonEndpoint) -> None:
        """Answer ``METHOD /_local/<name>`` with ``endpoint`` (the one place to add local JSON endpoints)."""
        self.endpoints[(method.upper(), f"{LOCAL_PREFIX}{name}")] = endpoint

    def handle(self, request: Request) -> HttpResult:
        path = request.path
        if path.startswith(LOCAL_PREFIX):
            endpoint = self.endpoints.get((request.method, path))
            if endpoint is None:
                return json_result(404, NOT_FOUND)
            try:
                status, payload = endpoint(request)
            except ValueError as exc:
                return json_result(400, {"error": {"code": "bad_request", "message": str(exc)}})
            except Exception as exc:  # a bug in a local endpoint: a JSON 500, the server keeps serving
                _report(request.path, exc)
                return json_result(500, INTERNAL_ERROR)
            return json_result(status, payload)
        if request.method in ("GET", "HEAD"):
            static = self._static(path)
            if static is not None:
                return static
        return self.gateway.handle(request.method, request.target, request.headers, request.body, request.client)

    def _static(self, path: str) -> HttpResult | None:
        name = "index.html" if path == "/" else path.lstrip("/")
        if not name or name.startswith(".") or "/." in name:
            return None
        file = (self.web_dir / name).resolve()
        if not file.is_file() or not file.is_relative_to(self.web_dir):
            return None
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/javascript":
            kind = f"{'text/javascript' if file.suffix == '.js' else kind}; charset=utf-8"
        headers = [("content-type", kind), ("cache-control", "no-store")]
        return HttpResult(200, headers, file.read_bytes())


class AccessLog:
    """``12:00:01  POST   /sessions/s-1/messages  200  14 ms`` per request (no query string, no bodies)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout  # bound now: a function's redirected stdout never receives it
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, status: int, elapsed_s: float, note: str = "") -> None:
        suffix = f"  (client {note})" if note else ""
        line = f"{datetime.now():%H:%M:%S}  {method:<6} {path}  {status}  {elapsed_s * 1000:.0f} ms{suffix}\n"
        with self._lock:
            self.stream.write(line)
            self.stream.flush()


class PortInUse(OSError):
    """The requested port is taken; ``free`` is the next one that is not (or ``None``)."""

    def __init__(self, port: int, free: int | None) -> None:
        self.port, self.free = port, free
        hint = f"use --port {free}" if free else "use --port 0 for any free port"
        self.message = f"port {port} on 127.0.0.1 is already in use: stop what uses it, or {hint}"
        super().__init__(errno.EADDRINUSE, self.message)

    def __str__(self) -> str:
        return self.message


class _Handler(BaseHTTPRequestHandler):
    server_version = "chatstate-local"
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def _dispatch(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        result = self.server.app.handle(request)
        try:
            self.send_response(result.status)
            for name, value in result.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(result.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(result.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (e.g. while the stack was starting)
            self.server.access_log(self.command, request.path, result.status, time.perf_counter() - started, "gone")
            return
        self.server.access_log(self.command, request.path, result.status, time.perf_counter() - started)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one access-log line per request is written by _dispatch; malformed requests are answered 400


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 whose ``app`` is set once the stack is ready.

    Binding happens first (in a few milliseconds), so a taken port is reported before anything slow starts;
    connections that arrive before :meth:`serve_forever` wait in the listen queue.
    """

    daemon_threads = True
    app: LocalApp

    def __init__(self, port: int, access_log: AccessLog | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.access_log = access_log or AccessLog()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @classmethod
    def bind(cls, port: int, *, fallback: bool, access_log: AccessLog | None = None) -> tuple[LocalServer, str | None]:
        """Bind ``port``; with ``fallback`` try the next ports when it is taken. Returns the server and a notice.

        Raises:
            PortInUse: the port is taken and ``fallback`` is off (or no port after it is free).
        """
        candidates = [port, *range(port + 1, port + 1 + PORT_TRIES)] if fallback and port else [port]
        for candidate in candidates:
            try:
                server = cls(candidate, access_log)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            notice = f"port {port} is in use; serving on {candidate} instead" if candidate != port else None
            return server, notice
        raise PortInUse(port, next_free_port(port + 1))


def next_free_port(start: int) -> int | None:
    """The first port from ``start`` (within PORT_TRIES) that can be bound on 127.0.0.1 now."""
    import socket

    for candidate in range(start, min(start + PORT_TRIES, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return None
