"""A loopback HTTP proxy in front of DynamoDB Local that injects the faults a flaky network or service shows.

``FaultProxy(upstream)`` forwards every request to ``upstream`` unchanged until a ``Rule`` is set; then
matching requests (by DynamoDB operation, from ``X-Amz-Target``) get the rule's fault instead:

* ``delay``: wait ``delay_seconds``, then forward (the request still reaches the upstream);
* ``hang``: read the request and never answer it (it is not forwarded), until the client gives up;
* ``drop``: close the connection without answering (not forwarded);
* ``throttle``: HTTP 400 ``ProvisionedThroughputExceededException`` with DynamoDB's JSON body;
* ``error500``: HTTP 500 ``InternalServerError`` with DynamoDB's JSON body.

Binds 127.0.0.1 only; every wait is bounded (``hang`` by ``max_hang_seconds``, and all of them end
when the proxy stops). Used by the deadline tests and ``benchmarks/bench_faults.py``.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
READS = frozenset({"GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


class Fault(StrEnum):
    """What the proxy does to a matching request."""

    DELAY = "delay"
    HANG = "hang"
    DROP = "drop"
    THROTTLE = "throttle"
    ERROR_500 = "error500"


@dataclass(frozen=True)
class Rule:
    """A fault for the requests it matches.

    Args:
        fault: What to do.
        operations: DynamoDB operation names it applies to (``None``: every request).
        delay_seconds: How long ``delay`` waits before forwarding.
        times: Apply to the first ``times`` matching requests only (``None``: to every one).
    """

    fault: Fault
    operations: frozenset[str] | None = None
    delay_seconds: float = 2.5
    times: int | None = None

    def matches(self, operation: str) -> bool:
        """Whether the rule applies to ``operation``."""
        return self.operations is None or operation in self.operations


class FaultProxy:
    """The proxy; ``start()``/``stop()`` or use it as a context manager.

    Args:
        upstream: The endpoint to forward to (``http://127.0.0.1:<port>``); ``None`` answers every
            forwarded request with 502 (a proxy that only injects faults).
        max_hang_seconds: The longest a ``hang`` holds a request before closing it.
    """

    def __init__(self, upstream: str | None, *, max_hang_seconds: float = 60.0) -> None:
        self.upstream = urlsplit(upstream) if upstream else None
        self.max_hang_seconds = max_hang_seconds
        self.seen: Counter[str] = Counter()
        """Requests received per operation (every attempt, faulted or not)."""
        self.faulted: Counter[str] = Counter()
        """Requests a fault was applied to, per operation."""
        self._rule: Rule | None = None
        self._applied = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running proxy."""
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def set_rule(self, rule: Rule | None) -> None:
        """Inject ``rule`` from now on (``None``: forward everything)."""
        with self._lock:
            self._rule = rule
            self._applied = 0

    def start(self) -> FaultProxy:
        """Listen on a free loopback port."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release every held request."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- per request -------------------------------------------------------------------------------
    def _decide(self, operation: str) -> Rule | None:
        with self._lock:
            self.seen[operation] += 1
            rule = self._rule
            if rule is None or not rule.matches(operation):
                return None
            if rule.times is not None and self._applied >= rule.times:
                return None
            self._applied += 1
            self.faulted[operation] += 1
            return rule

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; ``False`` if the proxy is stopping."""
        return not self._stopping.wait(seconds)

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        if self.upstream is None:
            return 502, [("Content-Type", "application/json")], b'{"message":"no upstream"}'
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


FAULTS: dict[str, Rule] = {
    "reads-delayed-2.5s": Rule(Fault.DELAY, operations=READS, delay_seconds=2.5),
    "all-delayed-2.5s": Rule(Fault.DELAY, delay_seconds=2.5),
    "writes-hang": Rule(Fault.HANG, operations=WRITES),
    "all-hang": Rule(Fault.HANG),
    "connections-dropped": Rule(Fault.DROP),
    "throttled": Rule(Fault.THROTTLE),
    "http-500": Rule(Fault.ERROR_500),
}
"""The faults the tests and ``benchmarks/bench_faults.py`` play, by name."""


def dynamodb_error(code: str, message: str) -> bytes:
    """A DynamoDB JSON error body (``__type`` + ``message``), as the service sends it."""
    return json.dumps({"__type": _DYNAMODB_ERROR + code, "message": message}).encode()


_CANNED: dict[Fault, tuple[int, bytes]] = {
    Fault.THROTTLE: (
        400,
        dynamodb_error(
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded. "
            "Consider increasing your provisioning level with the UpdateTable API.",
        ),
    ),
    Fault.ERROR_500: (500, dynamodb_error("InternalServerError", "Internal server error")),
}


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # quiet
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            target = self.headers.get("X-Amz-Target") or ""
            operation = target.rpartition(".")[2] or self.command
            rule = proxy._decide(operation)
            if rule is not None and rule.fault is Fault.HANG:
                proxy._wait(proxy.max_hang_seconds)
                self.close_connection = True
                return
            if rule is not None and rule.fault is Fault.DROP:
                self.close_connection = True
                return
            if rule is not None and rule.fault in _CANNED:
                status, payload = _CANNED[rule.fault]
                self._answer(status, [("Content-Type", "application/x-amz-json-1.0")], payload)
                return
            if rule is not None and rule.fault is Fault.DELAY and not proxy._wait(rule.delay_seconds):
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            status, response_headers, payload = proxy._forward(self.command, self.path, headers, body)
            self._answer(status, response_headers, payload)

        def _answer(self, status: int, headers: list, payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in _HOP_HEADERS:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _handle
        do_GET = _handle

    return Handler
