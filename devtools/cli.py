"""``scripts/run-local.sh``: run chatstate on this machine without AWS or Docker.

Subcommands (each is one :class:`Command` in :data:`COMMANDS`, the one place to add another):

* ``serve [--port N] [--logs]``: the chat page and the chat API on ``http://127.0.0.1:N`` (default).
* ``invoke FUNCTION_LOGICAL_ID -e EVENT.json``: one invocation, like ``sam local invoke``; uses the DynamoDB of a
  running ``serve`` when there is one.
* ``demo``: a scripted Lex conversation and a few chat API calls, printed.
* ``create-table --endpoint URL``: create the session table on a running DynamoDB (for ``sam local invoke``).
* ``lex [--memory]``: talk to ChatBot from template.yaml in the terminal, like the Lex console's test window
  (``devtools.lex_console``).

Everything comes from ``template.yaml``: the table definition, each function's CodeUri/Handler/Layers and its
environment (Globals merged). Only ``AWS_ENDPOINT_URL_DYNAMODB`` and dummy credentials are added.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from devtools.dynamodb_local import DynamoDBLocalError
from devtools.function_logs import add_logs_option, function_output, where
from devtools.gateway import ChatApiGateway, chat_cors
from devtools.server import LocalApp, LocalServer, PortInUse, Request
from devtools.stack import (
    CHAT_FUNCTION,
    LEX_FUNCTION,
    LOCAL_TABLE,
    EndpointUnreachable,
    ServerState,
    dynamodb_endpoint,
    endpoint_answers,
    ensure_table,
    prepare_functions,
)
from devtools.template import REPO_ROOT, TEMPLATE_PATH, TemplateError

if TYPE_CHECKING:
    from devtools.lambda_env import LocalFunction
    from devtools.lex_tab import LexTab

DEFAULT_PORT = 3000
CALLER_DIR_ENV = "RUN_LOCAL_CALLER_DIR"
"""Set by scripts/run-local.sh: the directory the user ran it from (relative ``-e`` paths are read from there)."""
STARTED_ENV = "RUN_LOCAL_STARTED"
"""Set by scripts/run-local.sh: epoch seconds when the command started (for the 'ready in' line)."""


class CommandError(Exception):
    """A problem the user can fix, reported as one line (exit status 2)."""


# --- output ------------------------------------------------------------------------------------------------------


class Steps:
    """Prints one line per set-up step with its duration: ``  ✓ DynamoDB Local started (...)   2.4 s``."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        started = os.environ.get(STARTED_ENV)
        self.started = float(started) if started else time.time()

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[dict[str, str]]:
        """Time the block; the block may set ``detail['text']`` to say more (e.g. an endpoint)."""
        detail: dict[str, str] = {}
        began = time.perf_counter()
        yield detail
        elapsed = time.perf_counter() - began
        text = f"{what} ({detail['text']})" if detail.get("text") else what
        self.say(f"  ✓ {text:<68} {elapsed:5.1f} s")

    def say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def since_start(self) -> float:
        return time.time() - self.started


# --- serve -------------------------------------------------------------------------------------------------------


def port_number(text: str) -> int:
    """``--port``'s type: 0 (any free port) to 65535, else argparse's one-line usage error."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0 to 65535; 0 = any free port)")
    return port


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or the next free one)",
    )
    add_logs_option(parser)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the chat page and the chat API until Ctrl-C; DynamoDB Local stops with it."""
    steps = Steps()
    explicit = args.port is not None
    port = DEFAULT_PORT if args.port is None else args.port
    running = ServerState.read()
    holder = f" (another run-local, pid {running.pid}, serves {running.url})" if running else ""
    if running is None or not running.url.endswith(f":{port}"):
        holder = ""
    try:
        server, notice = LocalServer.bind(port, fallback=not explicit)
    except PortInUse as exc:
        raise CommandError(f"{exc}{holder}") from None
    except OSError as exc:  # e.g. a privileged port
        raise CommandError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    if notice:
        steps.say(f"  ! {notice}{holder}")
    output = function_output(args.logs)
    state: ServerState | None = None
    try:
        with contextlib.ExitStack() as stack:
            with steps.step("DynamoDB Local started" if not args.endpoint else "DynamoDB endpoint") as d:
                endpoint = stack.enter_context(dynamodb_endpoint(args.endpoint))
                d["text"] = endpoint
            with steps.step(f"table {args.table}") as d:
                d["text"] = "created from template.yaml, TTL on" if ensure_table(endpoint, args.table) else "exists"
            with steps.step(f"{CHAT_FUNCTION} and {LEX_FUNCTION} imported") as d:
                functions = prepare_functions([CHAT_FUNCTION, LEX_FUNCTION], endpoint, args.table, output)
                d["text"] = ", ".join(f"{f.spec.handler_module}.{f.spec.handler_function}" for f in functions.values())
            gateway = ChatApiGateway(functions[CHAT_FUNCTION], chat_cors())
            server.app = build_app(gateway, table=args.table, lex=lex_tab(functions[LEX_FUNCTION]))
            state = ServerState(os.getpid(), server.url, endpoint, args.table)
            state.write()
            steps.say(_banner(server.url, endpoint, args.table, gateway, args.logs))
            steps.say(f"ready in {steps.since_start():.1f} s. Requests:")
            server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopped (DynamoDB Local too)", file=sys.stderr, flush=True)
    finally:
        server.server_close()
        if state is not None:
            state.remove()
    return 0


def lex_tab(function: LocalFunction) -> LexTab:
    """The page's Lex tab: ChatBot from template.yaml played by the simulator against ``function``."""
    from devtools.lex_console import LexConsole
    from devtools.lex_tab import LexTab
    from devtools.lexsim.definition import load_bot
    from devtools.lexsim.engine import LexSimulator

    return LexTab(LexConsole(LexSimulator(load_bot(), function.invoke)))


def build_app(gateway: ChatApiGateway, *, table: str, lex: LexTab | None = None) -> LocalApp:
    """The local server's app with its local-only JSON endpoints (the Lex tab's too, when ``lex`` is given)."""
    app = LocalApp(gateway)
    routes = [r.route.route_key for r in gateway.routes]
    lex_info = lex.info() if lex is not None else None

    def info(request: Request) -> tuple[int, Any]:
        return 200, {"local": True, "actor_header": "X-Local-Actor", "table": table, "routes": routes, "lex": lex_info}

    app.add_endpoint("GET", "info", info)
    if lex is not None:
        lex.register(app)
    return app


def _banner(url: str, endpoint: str, table: str, gateway: ChatApiGateway, logs: bool) -> str:
    routes = "\n".join(f"  {r.route.method:6} {r.route.path}" for r in gateway.routes)
    where_logs = where(logs)
    return f"""
chat page:  {url}/
chat API:   {url}  (AgentChatFunction, API Gateway HTTP API payload 2.0)
{routes}
Lex tab:    {url}/#lex  (ChatBot from template.yaml on the local Lex V2 simulator, LexFulfillmentFunction)
DynamoDB:   {endpoint}  table {table}
logs:       one line per request below; the functions' JSON logs are {where_logs}
LOCAL ONLY: the header 'X-Local-Actor: <sub>' stands in for the JWT authorizer (no header -> 401).
try:
  curl -s -X POST {url}/sessions -H 'X-Local-Actor: alice' -H 'content-type: application/json' -d '{{}}'
  curl -s -X POST {url}/sessions/<session_id>/messages -H 'X-Local-Actor: alice' \\
       -H 'content-type: application/json' -d '{{"message": "Hello, I am Alice"}}'
Ctrl-C stops the server and DynamoDB Local."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, ``kill`` and a closed terminal all end a command the same way: DynamoDB Local stops with it."""


def _stop_on_signals() -> None:
    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    for signum in STOP_SIGNALS:
        signal.signal(signum, raise_interrupt)


# --- invoke ------------------------------------------------------------------------------------------------------


def _configure_invoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("function", metavar="FUNCTION_LOGICAL_ID", help="e.g. LexFulfillmentFunction")
    parser.add_argument(
        "-e", "--event", required=True, help="event JSON file, relative to your current directory ('-' = stdin)"
    )
    add_logs_option(parser)


def event_path(name: str) -> Path:
    """``name`` from the caller's directory; failing that from the repository root (``events/...``)."""
    path = Path(name).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        caller = Path(os.environ.get(CALLER_DIR_ENV) or Path.cwd())
        candidates = [caller / path, REPO_ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise CommandError(f"event file {name} not found (looked in {', '.join(str(c.parent) for c in candidates)})")


def cmd_invoke(args: argparse.Namespace) -> int:
    """Invoke one function with an event file, like ``sam local invoke``; print its JSON response."""
    if args.event == "-":
        event = json.load(sys.stdin)
    else:
        path = event_path(args.event)
        try:
            event = json.loads(path.read_text())
        except ValueError as exc:
            raise CommandError(f"{path} is not JSON: {exc}") from None
    endpoint, table = args.endpoint, args.table
    if endpoint is None:
        running = ServerState.read()
        if running is not None and endpoint_answers(running.dynamodb_endpoint):
            endpoint, table = running.dynamodb_endpoint, args.table_given or running.table
            print(f"run-local: using the DynamoDB of the server at {running.url} (table {table})", file=sys.stderr)
        else:
            print(
                "run-local: no local server running, so this invoke gets an empty, throwaway DynamoDB Local "
                "(run scripts/run-local.sh in another terminal to keep data between invokes)",
                file=sys.stderr,
            )
    with dynamodb_endpoint(endpoint) as url:
        ensure_table(url, table)
        function = prepare_functions([args.function], url, table, function_output(args.logs))[args.function]
        response = function.invoke(event)
    print(json.dumps(response, indent=2, default=str))
    if not args.logs:
        print(f"run-local: the function's JSON logs are {where(False)}", file=sys.stderr)
    if args.function == LEX_FUNCTION:
        from devtools.lex_validator import validate_response

        problems = validate_response(response)
        verdict = "Lex would refuse this response" if problems else "Lex would accept this response"
        lines = "".join(f"\n  - {problem}" for problem in problems)
        print(f"run-local: {verdict} (devtools/lex_validator.py, docs/lex-v2.md){lines}", file=sys.stderr)
        return 1 if problems else 0
    return 0


# --- create-table ------------------------------------------------------------------------------------------------


def cmd_create_table(args: argparse.Namespace) -> int:
    """Create the session table (from template.yaml) on an existing endpoint, e.g. for ``sam local invoke``."""
    if not args.endpoint:
        raise CommandError("create-table needs --endpoint URL (e.g. http://127.0.0.1:8000)")
    try:
        created = ensure_table(args.endpoint, args.table)
    except EndpointUnreachable as exc:
        raise CommandError(f"{exc}: start DynamoDB there first (docs/deploying.md, sam local)") from None
    print(f"table {args.table} {'created' if created else 'already exists'} on {args.endpoint} (TTL on expires_at)")
    return 0


# --- the command line --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help line, extra arguments and what it runs."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def _run_demo(args: argparse.Namespace) -> int:
    from devtools.demo import run_demo

    return run_demo(args)


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", default=str(REPO_ROOT / "events"), help="events directory")
    add_logs_option(parser)


def _configure_lex(parser: argparse.ArgumentParser) -> None:
    from devtools.lex_console import configure_parser

    configure_parser(parser)


def _run_lex(args: argparse.Namespace) -> int:
    from devtools.lex_console import run

    args.table = args.table_given  # the console picks its own default table
    return run(args)


COMMANDS: list[Command] = [
    Command("serve", "serve the chat page and API on 127.0.0.1 (default command)", _configure_serve, cmd_serve),
    Command("invoke", "invoke one function with an event file (like sam local invoke)", _configure_invoke, cmd_invoke),
    Command("demo", "play a Lex conversation and a few chat API calls", _configure_demo, _run_demo),
    Command("create-table", "create the session table on --endpoint and exit", _no_arguments, cmd_create_table),
    Command(
        "lex", "talk to ChatBot from template.yaml in the terminal (a local Lex console)", _configure_lex, _run_lex
    ),
]
"""Every subcommand; add a new one here (its module stays separate, imported inside ``run``)."""


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``scripts/run-local.sh``."""
    parser = argparse.ArgumentParser(
        prog="scripts/run-local.sh", description="Run chatstate on this machine without AWS or Docker."
    )
    parser.add_argument("--table", default=None, help=f"session table name (default {LOCAL_TABLE})")
    parser.add_argument("--endpoint", help="use this DynamoDB endpoint instead of starting DynamoDB Local")
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS:
        sp = sub.add_parser(command.name, help=command.help)
        command.configure(sp)
        # the global options are accepted after the subcommand too
        sp.add_argument("--table", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sp.add_argument("--endpoint", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def parse(argv: list[str] | None) -> tuple[Command, argparse.Namespace]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare run-local = serve with its defaults
        args = parser.parse_args([*(argv or []), "serve"])
    args.table_given = args.table
    args.table = args.table or LOCAL_TABLE
    return next(c for c in COMMANDS if c.name == args.command), args


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run the subcommand, turn problems a user can fix into one line."""
    command, args = parse(sys.argv[1:] if argv is None else argv)
    if not TEMPLATE_PATH.is_file():
        print(f"run-local: {TEMPLATE_PATH} not found", file=sys.stderr)
        return 2
    _stop_on_signals()
    try:
        return command.run(args)
    except KeyboardInterrupt:  # every context (DynamoDB Local included) has been left by now
        return 130
    except (CommandError, DynamoDBLocalError, EndpointUnreachable, TemplateError, PortInUse) as exc:
        print(f"run-local: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
