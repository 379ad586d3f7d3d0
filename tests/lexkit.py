"""Shared helpers of the Lex tests: the response validator, event files, a fixed clock, a Lambda context."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.lambda_env import LambdaContext
from devtools.lex_validator import assert_valid_response

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS = REPO_ROOT / "events"
SHAPES = EVENTS / "lex_shapes"
"""The project's corpus of Lex V2 events, one per shape Lex sends (see its README.md)."""

FIXED_NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
"""The clock of the tests: the sample events' dates are relative to it."""


def assert_valid(response: Any) -> dict[str, Any]:
    """Fail unless Lex would accept ``response`` (every rule of docs/lex-v2.md); return it."""
    return assert_valid_response(response)


def load_event(name: str) -> dict[str, Any]:
    """An event file from ``events/`` (``name`` with or without ``.json``; ``lex_shapes/x`` for the corpus)."""
    path = EVENTS / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text())


def sample_events() -> list[Path]:
    """Every event of the shape corpus ``events/lex_shapes``."""
    return sorted(SHAPES.glob("*.json"))


def shape_event(name: str) -> dict[str, Any]:
    """One event of the shape corpus by file stem."""
    return json.loads((SHAPES / f"{name}.json").read_text())


def fixed_now() -> datetime:
    return FIXED_NOW


def lex_context() -> LambdaContext:
    """A Lambda context for LexFulfillmentFunction."""
    return LambdaContext.for_function("LexFulfillmentFunction")


def messages_text(response: dict[str, Any]) -> str:
    """All message contents of a response, joined."""
    return " ".join(m.get("content", "") for m in response.get("messages", []))


def dialog_action(response: dict[str, Any]) -> str:
    return str(response["sessionState"]["dialogAction"]["type"])


def new_request(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``event`` as a new Lex request: a fresh ``originatingRequestId`` (and ``changes`` at the top level)."""
    import copy
    import uuid

    fresh = copy.deepcopy(event) | changes
    fresh["sessionState"]["originatingRequestId"] = str(uuid.uuid4())
    return fresh


def greet_concurrently(runtime: Any, store: Any, turns: int = 5) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One Greeting, then ``turns`` Greetings of the same session that all read the same state, then one more.

    A barrier after each concurrent turn's load makes every one of them compute its update from the
    same (soon stale) state, so only a turn that is re-run on the fresh state can count exactly.
    Each Greeting is its own Lex request (its own ``originatingRequestId``).
    Returns the concurrent responses and the last one.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    event = load_event("lex_greeting")
    event["sessionState"].pop("sessionAttributes", None)
    assert_valid(runtime.handle(new_request(event)))
    barrier = threading.Barrier(turns)
    original = store.load

    def load(ref: Any, *, last: int = 10) -> Any:
        loaded = original(ref, last=last)
        barrier.wait(timeout=30)
        return loaded

    store.load = load
    try:
        with ThreadPoolExecutor(max_workers=turns) as pool:
            responses = list(pool.map(lambda _: assert_valid(runtime.handle(new_request(event))), range(turns)))
    finally:
        del store.load
    return responses, assert_valid(runtime.handle(new_request(event)))
