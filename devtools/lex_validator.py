"""Check an Amazon Lex V2 code-hook (Lambda) response the way Lex would, before Lex ever sees it.

The rules are written down in ``docs/lex-v2.md`` ("Response rules", ids ``R1``-``R12``); each problem this
module reports names the rule it breaks. Two sources, kept apart on purpose:

* **Shapes** come from botocore's ``lexv2-runtime`` service model (the same ``SessionState``, ``Intent``,
  ``Message`` ... shapes the runtime API uses): required members, unknown members, enums, lengths, list and map
  sizes, integer ranges, patterns and JSON types. The model is read from the installed botocore, never copied.
* **Code-hook rules** come from the Lex V2 developer guide ("AWS Lambda response format for Lex V2",
  "Guidelines and quotas"): the allowed top-level keys and dialog actions, what each dialog action needs, the
  intent states a ``Close`` may carry, and the size quotas.

This module deliberately shares no constant with the ``chatstate`` layer it is used to check.

Library::

    from devtools.lex_validator import validate_response, assert_valid_response
    problems = validate_response(response)         # [] when Lex would accept it
    assert_valid_response(response)                # raises InvalidLexResponse listing every problem

Command line::

    .venv/bin/python -m devtools.lex_validator response.json [more.json ...]   # '-' reads stdin
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# --- what the developer guide adds to the service model (docs/lex-v2.md) --------------------------------------------

RESPONSE_KEYS = frozenset({"sessionState", "messages", "requestAttributes"})
"""R1: the only top-level members of a code-hook response."""
CODE_HOOK_ACTIONS = ("Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot")
"""R2: dialog actions a Lambda may return (the runtime model's extra ``None`` is an API value only)."""
CLOSE_STATES = ("Failed", "Fulfilled", "InProgress")
"""R4: intent states that may accompany ``Close``."""
MAX_RESPONSE_BYTES = 50 * 1024
"""R9: largest Lambda output Lex accepts (UTF-8 JSON)."""
MAX_SESSION_ATTRIBUTES_BASE64 = 12 * 1024
"""R5: largest session-attribute map, measured as base64 of its JSON encoding."""
GUIDE_MAX_BUTTONS = 3
"""R6: the developer guide allows three buttons on a response card (the runtime model allows five)."""
ELICIT_SLOT_ONLY = ("slotToElicit", "slotElicitationStyle", "subSlotToElicit")
"""R10: dialog-action members that only mean something with ``ElicitSlot``."""

SERVICE = "lexv2-runtime"


@dataclass(frozen=True)
class Problem:
    """One reason Lex would refuse (or misread) a response."""

    rule: str
    """The rule id in docs/lex-v2.md (``R1`` ...)."""
    path: str
    """Where, as a JSON path (``$.sessionState.intent.name``)."""
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.path}: {self.message}"


class InvalidLexResponse(AssertionError):
    """Raised by :func:`assert_valid_response`; ``problems`` lists every broken rule."""

    def __init__(self, problems: list[Problem], response: Any) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Lex would refuse this response ({len(problems)} problem(s)):\n{lines}\n{_short(response)}")


@cache
def service_model() -> Any:
    """botocore's ``lexv2-runtime`` service model (loaded once)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


def shape(name: str) -> Any:
    """One shape of the runtime model by name (``SessionState``, ``Message``, ...)."""
    return service_model().shape_for(name)


# --- the model walker ------------------------------------------------------------------------------------------------


class _Walker:
    """Checks a JSON value against a botocore shape, collecting problems under one rule id."""

    def __init__(self, problems: list[Problem], rule_at: dict[str, str] | None = None) -> None:
        self.problems = problems
        self.rule_at = rule_at or {}
        """Paths whose subtree belongs to another rule than the walk's (session attributes: R5)."""

    def add(self, rule: str, path: str, message: str) -> None:
        self.problems.append(Problem(rule, path, message))

    def value(self, value: Any, model: Any, path: str, rule: str) -> None:
        rule = self.rule_at.get(path, rule)
        kind = model.type_name
        check = getattr(self, f"_{kind}", None)
        if check is not None:
            check(value, model, path, rule)

    def _structure(self, value: Any, model: Any, path: str, rule: str) -> None:
        if not isinstance(value, dict):
            self.add(rule, path, f"must be an object ({model.name}), not {_json_type(value)}")
            return
        required = model.metadata.get("required", [])
        for name in required:
            if value.get(name) is None:
                self.add(rule, f"{path}.{name}", f"is required in {model.name}")
        for name, member in value.items():
            if name not in model.members:
                allowed = ", ".join(model.members)
                self.add(rule, f"{path}.{name}", f"is not a member of {model.name} (members: {allowed})")
            elif member is None:
                if name not in required:
                    self.add("R11", f"{path}.{name}", "is null: leave an optional member out instead")
            else:
                self.value(member, model.members[name], f"{path}.{name}", rule)

    def _list(self, value: Any, model: Any, path: str, rule: str) -> None:
        if not isinstance(value, list):
            self.add(rule, path, f"must be an array ({model.name}), not {_json_type(value)}")
            return
        self._count(len(value), model.metadata, path, rule, "items")
        for index, item in enumerate(value):
            if item is None:
                self.add(rule, f"{path}[{index}]", "is null")
            else:
                self.value(item, model.member, f"{path}[{index}]", rule)

    def _map(self, value: Any, model: Any, path: str, rule: str) -> None:
        if not isinstance(value, dict):
            self.add(rule, path, f"must be an object ({model.name}), not {_json_type(value)}")
            return
        self._count(len(value), model.metadata, path, rule, "entries")
        unfilled_allowed = model.value.name == "Slot"  # an unfilled slot is null (Intent.slots, Slot.subSlots)
        for key, item in value.items():
            self.value(key, model.key, f"{path}<key {key!r}>", rule)
            if item is None:
                if not unfilled_allowed:
                    self.add(rule, f"{path}[{key!r}]", f"is null: values of {model.name} must be {model.value.name}")
            else:
                self.value(item, model.value, f"{path}[{key!r}]", rule)

    def _string(self, value: Any, model: Any, path: str, rule: str) -> None:
        meta = model.metadata
        if not isinstance(value, str):
            self.add(rule, path, f"must be a string ({model.name}), not {_json_type(value)}")
            return
        if "enum" in meta and value not in meta["enum"]:
            self.add(rule, path, f"{_clip(value)!r} is not one of {', '.join(meta['enum'])}")
        if len(value) < meta.get("min", 0):
            self.add(rule, path, f"must be at least {meta['min']} character(s) long")
        if "max" in meta and len(value) > meta["max"]:
            self.add(rule, path, f"is {len(value)} characters; {model.name} allows at most {meta['max']}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            self.add(rule, path, f"{_clip(value)!r} does not match {meta['pattern']}")

    def _integer(self, value: Any, model: Any, path: str, rule: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(rule, path, f"must be an integer, not {_json_type(value)}")
            return
        meta = model.metadata
        if value < meta.get("min", value) or value > meta.get("max", value):
            self.add(rule, path, f"{value} is outside {meta.get('min', '-inf')}..{meta.get('max', 'inf')}")

    _long = _integer

    def _double(self, value: Any, model: Any, path: str, rule: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(rule, path, f"must be a number, not {_json_type(value)}")

    _float = _double

    def _boolean(self, value: Any, model: Any, path: str, rule: str) -> None:
        if not isinstance(value, bool):
            self.add(rule, path, f"must be true or false, not {_json_type(value)}")

    def _count(self, count: int, meta: dict[str, Any], path: str, rule: str, what: str) -> None:
        if count < meta.get("min", 0):
            self.add(rule, path, f"needs at least {meta['min']} {what} (has {count})")
        if "max" in meta and count > meta["max"]:
            self.add(rule, path, f"allows at most {meta['max']} {what} (has {count})")


# --- the rules -------------------------------------------------------------------------------------------------------


def validate_response(response: Any) -> list[Problem]:
    """Every rule of docs/lex-v2.md that ``response`` breaks; an empty list means Lex would accept it."""
    problems: list[Problem] = []
    if not isinstance(response, dict):
        return [Problem("R1", "$", f"a code-hook response is a JSON object, not {_json_type(response)}")]
    walker = _Walker(problems, {"$.sessionState.sessionAttributes": "R5"})
    _top_level(response, walker)
    _size(response, walker)
    state = response.get("sessionState")
    if not isinstance(state, dict):
        return problems
    walker.value(state, shape("SessionState"), "$.sessionState", "R7")
    messages = response.get("messages")
    if messages is not None:
        walker.value(messages, shape("Messages"), "$.messages", "R6")
    if response.get("requestAttributes") is not None:
        walker.value(response["requestAttributes"], shape("StringMap"), "$.requestAttributes", "R5")
    message_list = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    _session_attributes(state, walker)
    _message_contents(message_list, walker)
    _dialog_action(state, message_list, walker)
    return problems


def assert_valid_response(response: Any) -> Any:
    """Return ``response`` unchanged, or raise :class:`InvalidLexResponse` listing every problem."""
    problems = validate_response(response)
    if problems:
        raise InvalidLexResponse(problems, response)
    return response


def _top_level(response: dict[str, Any], walker: _Walker) -> None:
    for key in response:
        if key not in RESPONSE_KEYS:
            walker.add("R1", f"$.{key}", f"is not a response member (allowed: {', '.join(sorted(RESPONSE_KEYS))})")
    if response.get("sessionState") is None:
        walker.add("R1", "$.sessionState", "is required")
    elif not isinstance(response["sessionState"], dict):
        walker.add("R1", "$.sessionState", f"must be an object, not {_json_type(response['sessionState'])}")
    for key in ("messages", "requestAttributes"):
        if key in response and response[key] is None:
            walker.add("R11", f"$.{key}", "is null: leave an optional member out instead")


def _size(response: dict[str, Any], walker: _Walker) -> None:
    try:
        size = len(json.dumps(response, ensure_ascii=False, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        walker.add("R9", "$", f"is not plain JSON: {exc}")
        return
    if size > MAX_RESPONSE_BYTES:
        walker.add("R9", "$", f"is {size:,} bytes; Lex accepts at most {MAX_RESPONSE_BYTES:,}")


def _session_attributes(state: dict[str, Any], walker: _Walker) -> None:
    attributes = state.get("sessionAttributes")
    if not isinstance(attributes, dict):
        return
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
        return  # the shape walk has reported the non-strings already
    encoded = base64.b64encode(json.dumps(attributes, ensure_ascii=False).encode())
    if len(encoded) > MAX_SESSION_ATTRIBUTES_BASE64:
        walker.add(
            "R5",
            "$.sessionState.sessionAttributes",
            f"is {len(encoded):,} bytes as base64 JSON; Lex accepts at most {MAX_SESSION_ATTRIBUTES_BASE64:,}",
        )


def _message_contents(messages: list[dict[str, Any]], walker: _Walker) -> None:
    for index, message in enumerate(messages):
        path = f"$.messages[{index}]"
        kind = message.get("contentType")
        if kind == "ImageResponseCard":
            card = message.get("imageResponseCard")
            if not isinstance(card, dict):
                walker.add("R6", f"{path}.imageResponseCard", "is required when contentType is ImageResponseCard")
                continue
            buttons = card.get("buttons")
            if isinstance(buttons, list) and len(buttons) > GUIDE_MAX_BUTTONS:
                walker.add(
                    "R6", f"{path}.imageResponseCard.buttons", f"has {len(buttons)}; a card shows up to three buttons"
                )
        elif kind in ("PlainText", "SSML", "CustomPayload") and not message.get("content"):
            walker.add("R6", f"{path}.content", f"is required (non-empty) when contentType is {kind}")


def _dialog_action(state: dict[str, Any], messages: list[dict[str, Any]], walker: _Walker) -> None:
    action = state.get("dialogAction")
    if not isinstance(action, dict):
        walker.add("R2", "$.sessionState.dialogAction", "is required (with its type) in a code-hook response")
        return
    kind = action.get("type")
    if kind == "None":
        walker.add("R2", "$.sessionState.dialogAction.type", "'None' is a runtime-API value, not a code-hook one")
    if kind not in CODE_HOOK_ACTIONS:
        return  # the shape walk has reported a missing or unknown type
    intent = state.get("intent") if isinstance(state.get("intent"), dict) else None
    intent_state = intent.get("state") if intent else None

    def needs_intent_name() -> None:
        if intent is None or not intent.get("name"):
            walker.add("R3", "$.sessionState.intent.name", f"is required with {kind}")

    def needs_message() -> None:
        if not messages:
            walker.add("R3", "$.messages", f"{kind} needs at least one message to say to the user")

    if kind == "ElicitSlot":
        needs_intent_name()
        if not action.get("slotToElicit"):
            walker.add("R3", "$.sessionState.dialogAction.slotToElicit", "is required with ElicitSlot")
    elif kind == "ConfirmIntent":
        needs_intent_name()
        needs_message()
        if intent is not None and "slots" not in intent:
            walker.add("R3", "$.sessionState.intent.slots", "ConfirmIntent must send the slots to be confirmed")
    elif kind == "ElicitIntent":
        needs_message()
    elif kind == "Close":
        needs_intent_name()
        if intent_state is None:
            walker.add("R4", "$.sessionState.intent.state", "is required with Close")
        elif intent_state not in CLOSE_STATES:
            walker.add("R4", "$.sessionState.intent.state", f"{intent_state!r} cannot close an intent")
    if kind != "ElicitSlot":
        for name in ELICIT_SLOT_ONLY:
            if name in action:
                walker.add("R10", f"$.sessionState.dialogAction.{name}", f"only goes with ElicitSlot, not {kind}")
    if intent_state == "ReadyForFulfillment" and kind != "Delegate":
        walker.add("R4", "$.sessionState.intent.state", f"ReadyForFulfillment only goes with Delegate, not {kind}")


# --- helpers and command line ------------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


def _short(response: Any, limit: int = 2000) -> str:
    try:
        text = json.dumps(response, default=str)
    except (TypeError, ValueError):
        text = repr(response)
    return text if len(text) <= limit else f"{text[:limit]}..."


def main(argv: Iterable[str] | None = None) -> int:
    """Validate response files; exit 0 when all are valid, 1 when one is not, 2 when one cannot be read."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m devtools.lex_validator RESPONSE.json [...]   ('-' reads stdin)", file=sys.stderr)
        return 2
    status = 0
    for name in paths:
        try:
            response = json.load(sys.stdin) if name == "-" else json.loads(Path(name).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            print(f"{name}: cannot read JSON: {exc}", file=sys.stderr)
            return 2
        problems = validate_response(response)
        if problems:
            status = 1
            print(f"{name}: Lex would refuse it ({len(problems)} problem(s))")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"{name}: valid")
    return status


if __name__ == "__main__":
    sys.exit(main())
