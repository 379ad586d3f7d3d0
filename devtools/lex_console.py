"""The Lex console's test window on your machine: ``scripts/run-local.sh lex``.

Plays ``ChatBot`` from ``template.yaml`` with the local Lex V2 runtime simulator (``devtools.lexsim``)
against ``LexFulfillmentFunction``, imported in-process exactly as ``scripts/run-local.sh invoke``
does, on DynamoDB Local (or ``--memory``: in-memory stores, nothing to start). The utterance matcher
is deterministic and is NOT Lex's NLU: it matches the sample utterances and their ``{Slot}`` spans.

Type utterances; each turn prints the bot's messages, the dialog action, the intent with its slots
and the session attributes. Commands (:data:`HELP`): ``/attr name=value`` sets a session attribute (as a
client would), ``/request name=value`` sets a request attribute for the following turns, ``/reset``
starts a new session, ``/json`` toggles JSON output, ``/help`` lists them, ``/quit`` ends (as does end
of input). When the same slot has been asked for twice in a row, the console says how to get out.
The function's JSON logs go to ``.local/logs/functions.log`` unless ``--logs``.

For a UI: ``LexConsole.turn(session_id, text)`` and ``LexConsole.handle(request)`` (JSON in, JSON out)
answer one turn as a JSON-ready dict: ``sessionId``, ``input``, ``dialogAction``, ``intent`` (``name``,
``state``, ``confirmationState``, ``slots``), ``sessionAttributes``, ``messages``,
``interpretations``, ``codeHooks``, ``problems``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from devtools.function_logs import add_logs_option, function_output, shown_path
from devtools.lexsim.definition import load_bot
from devtools.lexsim.engine import LexSimulator

LEX_FUNCTION = "LexFulfillmentFunction"
HELP = (
    "commands: /attr name=value (session attribute), /request name=value (request attribute), "
    "/reset (new session), /json (toggle JSON), /help, /quit"
)


class LexConsole:
    """A JSON-in/JSON-out face of the simulator (what a terminal or a page's Lex tab needs)."""

    def __init__(self, simulator: LexSimulator) -> None:
        self.simulator = simulator
        self.request_attributes: dict[str, dict[str, str]] = {}

    def turn(self, session_id: str, text: str) -> dict[str, Any]:
        """Play ``text`` in ``session_id``; the turn as a JSON-ready dict."""
        attributes = self.request_attributes.get(session_id)
        return self.simulator.turn(session_id, text, request_attributes=attributes).to_dict()

    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """One JSON request → one JSON answer.

        ``{"sessionId": str, "text": str, "sessionAttributes"?: {str: str}, "requestAttributes"?: {str: str},
        "reset"?: bool}``: ``reset`` forgets the session first, ``sessionAttributes`` are set as a client
        would, ``requestAttributes`` go with this turn only. A bad request answers ``{"error": {...}}``.
        """
        session_id = request.get("sessionId")
        text = request.get("text")
        if not isinstance(session_id, str) or not session_id or not isinstance(text, str):
            return {"error": {"code": "bad_request", "message": "sessionId and text (strings) are required"}}
        if request.get("reset"):
            self.simulator.reset(session_id)
        attributes = request.get("sessionAttributes")
        if isinstance(attributes, Mapping):
            self.simulator.set_attributes(session_id, attributes)
        extra = request.get("requestAttributes")
        per_turn = dict(extra) if isinstance(extra, Mapping) else self.request_attributes.get(session_id)
        return self.simulator.turn(session_id, text, request_attributes=per_turn).to_dict()


# -- wiring the function in-process -------------------------------------------------------------------------
def _use_memory_stores(module_name: str) -> Any:
    """Rewire the handler module's composition root to in-memory stores; returns the module."""
    import importlib

    from chatstate.profile import InMemoryProfileStore
    from chatstate.store.memory import InMemorySessionStore

    module = importlib.import_module(module_name)
    module.configure(store=InMemorySessionStore(), profiles=InMemoryProfileStore())
    return module


@contextlib.contextmanager
def local_console(
    *, memory: bool = False, endpoint: str | None = None, table: str | None = None, output: TextIO | None = None
) -> Iterator[LexConsole]:
    """A console on ``LexFulfillmentFunction`` run in-process (DynamoDB Local, or in-memory stores).

    ``output`` receives the function's JSON logs (default stderr).
    """
    from devtools.lambda_env import LocalFunction, apply_environment, local_environment
    from devtools.stack import LOCAL_TABLE, dynamodb_endpoint, ensure_table
    from devtools.template import function_spec

    table_name = table or LOCAL_TABLE
    if memory:
        spec = function_spec(LEX_FUNCTION, table_name=table_name)
        apply_environment(local_environment(spec, "http://127.0.0.1:9"))  # never called
        function = LocalFunction(spec, output)
        module = _use_memory_stores(spec.handler_module)
        try:
            yield LexConsole(LexSimulator(load_bot(), function.invoke))
        finally:
            module.configure()
        return
    with dynamodb_endpoint(endpoint) as url:
        ensure_table(url, table_name)
        spec = function_spec(LEX_FUNCTION, table_name=table_name)
        apply_environment(local_environment(spec, url))
        function = LocalFunction(spec, output)
        yield LexConsole(LexSimulator(load_bot(), function.invoke))


# -- the terminal ---------------------------------------------------------------------------------------------
def describe(turn: Mapping[str, Any]) -> str:
    """A turn (``LexConsole.turn``'s dict) in a few human lines."""
    action = turn["dialogAction"]
    text = " ".join(str(m.get("content", "")) for m in turn["messages"] if m.get("content"))
    detail = f" slot={action['slotToElicit']}" if action.get("slotToElicit") else ""
    lines = [f"bot> {text}" if text else "bot> (no message)"]
    summary = f"     [{action.get('type')}{detail}]"
    intent = turn["intent"]
    if intent is not None:
        slots = ", ".join(f"{k}={v if v is not None else '-'}" for k, v in intent["slots"].items())
        summary += f" {intent['name']} ({intent['state']})" + (f" slots: {slots}" if slots else "")
    lines.append(summary)
    lines.append(f"     attrs: {json.dumps(turn['sessionAttributes'], ensure_ascii=False, sort_keys=True)}")
    lines.extend(f"     PROBLEM: {p}" for p in turn["problems"])
    stuck = turn.get("stuck")
    if stuck:
        lines.append(
            f"     (asked for {stuck['slot']} of {stuck['intent']} {stuck['tries'] + 1} times: answer it, say another"
            " request such as 'hello' or 'book a flight', or /reset to start a new session)"
        )
    return "\n".join(lines)


def _pair(text: str) -> tuple[str, str] | None:
    name, sep, value = text.partition("=")
    return (name.strip(), value.strip()) if sep and name.strip() else None


def repl(console: LexConsole, session_id: str, source: TextIO, out: TextIO, *, as_json: bool = False) -> int:
    """Read utterances and commands from ``source`` until ``/quit`` or end of input; print each turn."""
    interactive = source.isatty()
    sim = console.simulator
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        line = source.readline()
        if not line:
            return 0
        text = line.strip()
        if not text:
            continue
        if not interactive and not as_json:  # echo piped input, except in JSON-lines output
            out.write(f"you> {text}\n")
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command == "/quit":
                return 0
            if command == "/reset":
                sim.reset(session_id)
                session_id = f"local-{uuid.uuid4().hex[:8]}"
                out.write(f"     (new session {session_id})\n")
            elif command == "/json":
                as_json = not as_json
            elif command in ("/attr", "/request") and (pair := _pair(rest)) is not None:
                if command == "/attr":
                    sim.set_attributes(session_id, {pair[0]: pair[1]})
                else:
                    console.request_attributes.setdefault(session_id, {})[pair[0]] = pair[1]
                out.write(f"     ({command[1:]} {pair[0]} set)\n")
            else:
                out.write(f"     {HELP}\n")
            continue
        turn = console.turn(session_id, text)
        if as_json:
            out.write(json.dumps(turn, ensure_ascii=False) + "\n")
        else:
            out.write(describe(turn) + "\n")
        out.flush()


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``scripts/run-local.sh lex``."""
    parser = argparse.ArgumentParser(prog="run-local lex", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", help="use this DynamoDB endpoint instead of starting DynamoDB Local")
    parser.add_argument("--table", help="session table name (default chatstate-local-sessions)")
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The options of the ``lex`` subcommand (``--endpoint``/``--table`` come from the run-local command line)."""
    parser.add_argument("--memory", action="store_true", help="in-memory stores instead of DynamoDB Local")
    parser.add_argument("--session-id", default=None, help="Lex session id (default: a new one)")
    parser.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE", help="initial session attribute")
    parser.add_argument("--json", action="store_true", help="print each turn as one JSON line")
    add_logs_option(parser)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m devtools.lex_console``."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Play the console with parsed arguments (``scripts/run-local.sh lex``)."""
    session_id = args.session_id or f"local-{uuid.uuid4().hex[:8]}"
    from devtools.dynamodb_local import DynamoDBLocalError
    from devtools.template import TemplateError

    output = function_output(args.logs)
    try:
        with local_console(memory=args.memory, endpoint=args.endpoint, table=args.table, output=output) as console:
            pairs = [p for p in (_pair(a) for a in args.attr) if p is not None]
            if pairs:
                console.simulator.set_attributes(session_id, dict(pairs))
            if not args.json:
                logs = "on stderr" if args.logs else f"in {shown_path()}"
                print(
                    f"ChatBot from template.yaml, session {session_id}. Type an utterance ('hello', 'book a flight',"
                    f" 'switch to italian').\n/help lists commands, /reset starts a new session, /quit ends."
                    f" The function's logs are {logs}."
                )
            return repl(console, session_id, sys.stdin, sys.stdout, as_json=args.json)
    except (DynamoDBLocalError, TemplateError) as exc:
        print(f"run-local lex: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
