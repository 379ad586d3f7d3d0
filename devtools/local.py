"""Run the stack on this machine without AWS or Docker: DynamoDB Local + the functions in-process.

Subcommands (``scripts/run-local.sh [serve|invoke|demo] ...``):

* ``serve [--port N]``: the chat API on ``http://127.0.0.1:N`` (HTTP → API Gateway HTTP API payload 2.0 event).
* ``invoke FUNCTION_LOGICAL_ID -e events/<file>.json``: one invocation, like ``sam local invoke``.
* ``demo``: a scripted Lex conversation and a few chat API calls, printed.
* ``create-table --endpoint URL``: create the session table on a running DynamoDB (for ``sam local invoke``).
* ``lex [--memory]``: talk to ChatBot from template.yaml in the terminal (``devtools.lex_console``).

Everything comes from ``template.yaml``: the table definition, each function's CodeUri/Handler/Layers and its
environment (Globals merged). Only ``AWS_ENDPOINT_URL_DYNAMODB`` and dummy credentials are added.

LOCAL ONLY: the HTTP server has no JWT authorizer. The ``X-Local-Actor`` request header stands in for a verified
token: its value becomes ``requestContext.authorizer.jwt.claims.sub``. Without it the event carries no authorizer
claims and the function answers 401. Never expose this server beyond the loopback interface.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.exceptions import ClientError

from devtools.dynamodb_local import FAKE_CREDENTIALS, DynamoDBLocal, DynamoDBLocalError, local_client
from devtools.template import (
    LOCAL_ACCOUNT,
    LOCAL_REGION,
    LOCAL_STACK,
    REPO_ROOT,
    TEMPLATE_PATH,
    FunctionSpec,
    HttpRoute,
    TemplateError,
    create_session_table,
    function_spec,
    load_template,
)

LOCAL_TABLE = "chatstate-local-sessions"
ACTOR_HEADER = "x-local-actor"
"""LOCAL ONLY identity header: its value plays the JWT ``sub`` claim. API Gateway never passes such a thing."""
CHAT_FUNCTION = "AgentChatFunction"
LEX_FUNCTION = "LexFulfillmentFunction"
_TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|x-www-form-urlencoded|[\w.+-]+\+(json|xml)))", re.IGNORECASE)


# --- environment and functions -------------------------------------------------------------------------------------


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

    Invocations are serialised, like one Lambda execution environment; the function's own output (logs,
    metrics) goes to stderr so stdout keeps only what the caller prints.
    """

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        if not spec.handler_file.is_file():
            raise TemplateError(f"{spec.logical_id}: {spec.handler_file} (CodeUri + Handler) does not exist")
        # Lambda's order: the function's code (/var/task) first, then the layers (/opt/python).
        for path in reversed((spec.code_dir, *spec.layer_dirs)):
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        # Powertools' Logger binds sys.stdout when created (at import): import with stdout pointing at stderr.
        with contextlib.redirect_stdout(sys.stderr):
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
        with self._lock, contextlib.redirect_stdout(sys.stderr):
            return self.handler(event, self.context())


# --- DynamoDB ------------------------------------------------------------------------------------------------------


def ensure_table(endpoint_url: str, table_name: str = LOCAL_TABLE) -> None:
    """Create ``table_name`` from template.yaml's SessionTable unless it exists already."""
    client = local_client(endpoint_url)
    try:
        client.describe_table(TableName=table_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        create_session_table(client, table_name)


@contextlib.contextmanager
def dynamodb_endpoint(endpoint_url: str | None) -> Iterator[str]:
    """``endpoint_url`` if given, else a DynamoDB Local started for the duration of the block."""
    if endpoint_url:
        yield endpoint_url
        return
    with DynamoDBLocal() as ddb:
        yield ddb.endpoint_url


# --- HTTP API (payload format 2.0) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRoute:
    """A template route (``GET /sessions/{session_id}``) and the regex matching concrete paths."""

    route: HttpRoute
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: HttpRoute) -> CompiledRoute:
        parts = re.split(r"(\{[A-Za-z0-9_]+\+?\})", route.path)
        regex = "".join(
            (f"(?P<{p[1:-2]}>.+)" if p.endswith("+}") else f"(?P<{p[1:-1]}>[^/]+)")
            if p.startswith("{")
            else re.escape(p)
            for p in parts
        )
        return cls(route, re.compile(f"^{regex}$"))


def match_route(routes: list[CompiledRoute], method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
    """The route for ``method path`` and its path parameters, or ``None`` (API Gateway answers 404)."""
    for compiled in routes:
        if compiled.route.method in (method, "ANY"):
            match = compiled.pattern.match(path)
            if match:
                return compiled.route, match.groupdict()
    return None


def build_http_event(
    route: HttpRoute,
    path_parameters: Mapping[str, str],
    *,
    method: str,
    raw_path: str,
    raw_query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    actor: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event as API Gateway would build it for this request."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers or []:
        key = name.lower()
        if key == ACTOR_HEADER:
            continue  # local-only stand-in for the authorizer; the function never sees it as a header
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT,
        "apiId": "local",
        "domainName": merged.get("host", "127.0.0.1"),
        "domainPrefix": merged.get("host", "127.0.0.1").split(".")[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if actor:
        request_context["authorizer"] = {
            "jwt": {"claims": {"sub": actor, "iss": "local-only", "token_use": "local"}, "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        if _TEXT_TYPES.match(merged.get("content-type", "application/json")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


@dataclass
class HttpResult:
    """What API Gateway sends back to the client for a function's return value."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_result(response: Any) -> HttpResult:
    """Translate a payload-2.0 function result (API Gateway rules: a bare value is a 200 JSON body)."""
    if not isinstance(response, dict) or "statusCode" not in response:
        body = response if isinstance(response, str) else json.dumps(response)
        return HttpResult(200, [("content-type", "application/json")], body.encode())
    headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in response.get("cookies") or []]
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode()
    return HttpResult(int(response["statusCode"]), headers, body)


def _json_result(status: int, payload: Any) -> HttpResult:
    return HttpResult(status, [("content-type", "application/json")], json.dumps(payload).encode())


class ChatApiGateway:
    """Routes HTTP requests to the chat function the way ChatApi would (routes from the template's HttpApi events)."""

    def __init__(self, function: LocalFunction, cors: Mapping[str, Any] | None = None) -> None:
        self.function = function
        self.routes = [CompiledRoute.of(route) for route in function.spec.http_routes]
        self.cors = dict(cors or {})

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str = "127.0.0.1"
    ) -> HttpResult:
        """One request → one invocation → the HTTP response."""
        parts = urlsplit(target)
        path = parts.path or "/"
        if method == "OPTIONS" and self.cors and any(k.lower() == "access-control-request-method" for k, _ in headers):
            return HttpResult(204, self._cors_headers(), b"")
        found = match_route(self.routes, method, path)
        if found is None:
            return _json_result(404, {"message": "Not Found"})
        route, params = found
        actor = next((v.strip() for k, v in headers if k.lower() == ACTOR_HEADER and v.strip()), None)
        event = build_http_event(
            route, params, method=method, raw_path=path, raw_query=parts.query, headers=headers, body=body,
            actor=actor, source_ip=source_ip,
        )  # fmt: skip
        try:
            result = http_result(self.function.invoke(event))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _json_result(500, {"message": "Internal Server Error"})
        if self.cors:
            result.headers += self._cors_headers(preflight=False)
        return result

    def _cors_headers(self, *, preflight: bool = True) -> list[tuple[str, str]]:
        origins = self.cors.get("AllowOrigins") or ["*"]
        headers = [("access-control-allow-origin", str(origins[0]))]
        if preflight:
            headers += [
                ("access-control-allow-methods", ",".join(self.cors.get("AllowMethods") or [])),
                ("access-control-allow-headers", ",".join(self.cors.get("AllowHeaders") or [])),
                ("access-control-max-age", str(self.cors.get("MaxAge", 0))),
            ]
        return headers


def _request_handler(gateway: ChatApiGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "chatstate-local"
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            result = gateway.handle(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            self.send_response(result.status)
            for name, value in result.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(result.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(result.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"[chat-api] {self.address_string()} {format % args}\n")

    return Handler


# --- commands ------------------------------------------------------------------------------------------------------


def _stop_on_sigterm() -> None:
    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGINT, raise_interrupt)


def _chat_cors() -> dict[str, Any]:
    from devtools.template import Resolver

    template = load_template()
    props = template["Resources"].get("ChatApi", {}).get("Properties", {})
    cors = Resolver(template).resolve(props.get("CorsConfiguration") or {})
    return cors if isinstance(cors, dict) else {}  # no CorsAllowedOrigin: the template drops the configuration


def _prepare(logical_ids: list[str], endpoint_url: str, table_name: str) -> dict[str, LocalFunction]:
    ensure_table(endpoint_url, table_name)
    specs = [function_spec(logical_id, table_name=table_name) for logical_id in logical_ids]
    for spec in specs:  # one process: the union of the functions' environments (they agree on shared names)
        apply_environment(local_environment(spec, endpoint_url))
    return {spec.logical_id: LocalFunction(spec) for spec in specs}


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the chat API until SIGINT/SIGTERM; DynamoDB Local stops with it."""
    _stop_on_sigterm()
    try:
        with dynamodb_endpoint(args.endpoint) as endpoint:
            functions = _prepare([CHAT_FUNCTION], endpoint, args.table)
            gateway = ChatApiGateway(functions[CHAT_FUNCTION], _chat_cors())
            server = ThreadingHTTPServer(("127.0.0.1", args.port), _request_handler(gateway))
            server.daemon_threads = True
            url = f"http://127.0.0.1:{server.server_address[1]}"
            print(_banner(url, endpoint, args.table, gateway), flush=True)
            try:
                server.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                print("\nshutting down", file=sys.stderr, flush=True)
            finally:
                server.server_close()
    except KeyboardInterrupt:
        pass
    return 0


def _banner(url: str, endpoint: str, table: str, gateway: ChatApiGateway) -> str:
    routes = "\n".join(f"  {r.route.method:6} {r.route.path}" for r in gateway.routes)
    return f"""chat API (AgentChatFunction, payload 2.0) on {url}
DynamoDB: {endpoint}  table: {table} (from template.yaml SessionTable, TTL on)
routes:
{routes}
LOCAL ONLY: the header 'X-Local-Actor: <sub>' stands in for the JWT authorizer (no header -> 401).
try:
  curl -s -X POST {url}/sessions -H 'X-Local-Actor: alice' -H 'content-type: application/json' -d '{{}}'
  curl -s -X POST {url}/sessions/<session_id>/messages -H 'X-Local-Actor: alice' \\
       -H 'content-type: application/json' -d '{{"message": "Hello, I am Alice"}}'
  curl -s '{url}/sessions/<session_id>/messages?limit=10' -H 'X-Local-Actor: alice'
  curl -s -X DELETE {url}/sessions/<session_id> -H 'X-Local-Actor: alice' -o /dev/null -w '%{{http_code}}\\n'
Ctrl-C stops the server and DynamoDB Local."""


def cmd_invoke(args: argparse.Namespace) -> int:
    """Invoke one function with an event file, like ``sam local invoke``; print its JSON response."""
    event = json.load(sys.stdin) if args.event == "-" else json.loads(Path(args.event).read_text())
    with dynamodb_endpoint(args.endpoint) as endpoint:
        function = _prepare([args.function], endpoint, args.table)[args.function]
        response = function.invoke(event)
    print(json.dumps(response, indent=2, default=str))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """A short scripted conversation through both functions, printed."""
    events_dir = Path(args.events)
    with dynamodb_endpoint(args.endpoint) as endpoint:
        functions = _prepare([LEX_FUNCTION, CHAT_FUNCTION], endpoint, args.table)
        print(f"== Lex: {LEX_FUNCTION} ({events_dir / 'lex_conversation'}) ==")
        attributes: dict[str, Any] | None = None
        for path in sorted((events_dir / "lex_conversation").glob("turn_*.json"), key=lambda p: int(p.stem[5:])):
            event = json.loads(path.read_text())
            if attributes is not None:  # Lex hands the previous response's attributes back
                event.setdefault("sessionState", {})["sessionAttributes"] = attributes
            response = functions[LEX_FUNCTION].invoke(event)
            attributes = response.get("sessionState", {}).get("sessionAttributes") or {}
            action = response.get("sessionState", {}).get("dialogAction", {})
            intent = response.get("sessionState", {}).get("intent", {})
            said = " ".join(m.get("content", "") for m in response.get("messages") or [])
            print(f"user> {event.get('inputTranscript', '')}")
            detail = action.get("slotToElicit") or intent.get("state") or ""
            print(f"bot > [{action.get('type')} {intent.get('name', '')} {detail}] {said}".rstrip())
        print(f"\n== Chat API: {CHAT_FUNCTION} (actor 'demo-user') ==")
        gateway = ChatApiGateway(functions[CHAT_FUNCTION], _chat_cors())

        def call(method: str, target: str, body: Any = None, actor: str | None = "demo-user") -> Any:
            headers = [("content-type", "application/json"), ("host", "127.0.0.1")]
            if actor:
                headers.append((ACTOR_HEADER, actor))
            raw = json.dumps(body).encode() if body is not None else b""
            result = gateway.handle(method, target, headers, raw)
            text = result.body.decode(errors="replace")
            print(f"{method} {target} -> {result.status} {text}")
            return json.loads(text) if text else None

        created = call("POST", "/sessions", {"state": {"plan": "demo"}})
        session_id = created.get("session_id") if isinstance(created, dict) else None
        if session_id:
            call("POST", f"/sessions/{session_id}/messages", {"message": "Hello! My name is Alice."})
            call("POST", f"/sessions/{session_id}/messages", {"message": "What did I just tell you?"})
            call("GET", f"/sessions/{session_id}/messages?limit=10")
            call("GET", f"/sessions/{session_id}")
            call("GET", f"/sessions/{session_id}", actor="someone-else")
            call("DELETE", f"/sessions/{session_id}")
            call("GET", f"/sessions/{session_id}")
        call("POST", "/sessions", {}, actor=None)
    return 0


def cmd_create_table(args: argparse.Namespace) -> int:
    """Create the session table (from template.yaml) on an existing endpoint, e.g. for ``sam local invoke``."""
    if not args.endpoint:
        print("run-local: create-table needs --endpoint URL (e.g. http://127.0.0.1:8000)", file=sys.stderr)
        return 2
    ensure_table(args.endpoint, args.table)
    print(f"table {args.table} ready on {args.endpoint} (TTL on expires_at)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m devtools.local``."""
    parser = argparse.ArgumentParser(prog="run-local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", default=LOCAL_TABLE, help=f"session table name (default {LOCAL_TABLE})")
    parser.add_argument("--endpoint", help="use this DynamoDB endpoint instead of starting DynamoDB Local")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the chat API on 127.0.0.1 (default command)")
    serve.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (0 = any free port; default 3000)")
    invoke = sub.add_parser("invoke", help="invoke one function with an event file (like sam local invoke)")
    invoke.add_argument("function", metavar="FUNCTION_LOGICAL_ID", help="e.g. LexFulfillmentFunction")
    invoke.add_argument("-e", "--event", required=True, help="event JSON file ('-' = stdin)")
    demo = sub.add_parser("demo", help="play a Lex conversation and a few chat API calls")
    demo.add_argument("--events", default=str(REPO_ROOT / "events"), help="events directory")
    create = sub.add_parser("create-table", help="create the session table on --endpoint and exit")
    for sp in (serve, invoke, demo, create):  # accept the global options after the subcommand too
        sp.add_argument("--table", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sp.add_argument("--endpoint", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run the subcommand, turn setup problems into a one-line error."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lex"]:  # the Lex console's test window, locally (devtools.lex_console)
        from devtools.lex_console import main as lex_main

        return lex_main(argv[1:])
    args = build_parser().parse_args(argv)
    command = args.command or "serve"
    if command == "serve" and not hasattr(args, "port"):
        args.port = 3000
    if not TEMPLATE_PATH.is_file():
        print(f"run-local: {TEMPLATE_PATH} not found", file=sys.stderr)
        return 2
    try:
        commands = {"serve": cmd_serve, "invoke": cmd_invoke, "demo": cmd_demo, "create-table": cmd_create_table}
        return commands[command](args)
    except (DynamoDBLocalError, TemplateError, FileNotFoundError) as exc:
        print(f"run-local: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
