"""The project's Lex V2 response validator: each rule of docs/lex-v2.md rejects a bad response, accepts a good one."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from devtools.lex_validator import InvalidLexResponse, assert_valid_response, main, validate_response


def close(state: str = "Fulfilled", **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "sessionState": {
            "dialogAction": {"type": "Close"},
            "intent": {"name": "Greeting", "state": state},
            "sessionAttributes": {"name": '"Ana"'},
        },
        "messages": [{"contentType": "PlainText", "content": "Hello Ana"}],
    }
    response.update(extra)
    return response


def with_state(**changes: Any) -> dict[str, Any]:
    response = close()
    response["sessionState"].update(changes)
    return response


def rules(response: Any) -> set[str]:
    return {p.rule for p in validate_response(response)}


def scalar(value: str) -> dict[str, Any]:
    return {"shape": "Scalar", "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}}


GOOD = {
    "minimal delegate": {"sessionState": {"dialogAction": {"type": "Delegate"}}},
    "close fulfilled": close(),
    "close failed": close("Failed"),
    "close in progress": close("InProgress"),
    "elicit slot": {
        "sessionState": {
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": "City", "slotElicitationStyle": "SpellByLetter"},
            "intent": {
                "name": "BookFlight",
                "slots": {"City": None, "Date": scalar("2026-07-02")},
                "state": "InProgress",
            },
        }
    },
    "elicit composite sub-slot": {
        "sessionState": {
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": "Address", "subSlotToElicit": {"name": "Street"}},
            "intent": {
                "name": "Ship",
                "slots": {"Address": {"shape": "Composite", "subSlots": {"Street": None, "City": scalar("Oslo")}}},
            },
        }
    },
    "confirm intent": {
        "sessionState": {
            "dialogAction": {"type": "ConfirmIntent"},
            "intent": {"name": "BookFlight", "slots": {"City": scalar("Oslo")}, "confirmationState": "None"},
        },
        "messages": [{"contentType": "PlainText", "content": "Book it?"}],
    },
    "elicit intent": {
        "sessionState": {"dialogAction": {"type": "ElicitIntent"}},
        "messages": [{"contentType": "SSML", "content": "<speak>What next?</speak>"}],
    },
    "card, custom payload, request attributes, contexts": {
        "sessionState": {
            "dialogAction": {"type": "ElicitIntent"},
            "activeContexts": [
                {
                    "name": "after_booking",
                    "timeToLive": {"timeToLiveInSeconds": 600, "turnsToLive": 3},
                    "contextAttributes": {"city": "Oslo"},
                }
            ],
        },
        "messages": [
            {
                "contentType": "ImageResponseCard",
                "imageResponseCard": {
                    "title": "Pick",
                    "buttons": [{"text": "A", "value": "a"}, {"text": "B", "value": "b"}],
                },
            },
            {"contentType": "CustomPayload", "content": '{"kind": "x"}'},
        ],
        "requestAttributes": {"x-amz-lex:channel": "web"},
    },
    "delegate ready for fulfillment": {
        "sessionState": {"dialogAction": {"type": "Delegate"}, "intent": {"name": "A", "state": "ReadyForFulfillment"}}
    },
}


@pytest.mark.parametrize("name", list(GOOD))
def test_valid_responses_pass(name: str) -> None:
    assert validate_response(GOOD[name]) == []
    assert assert_valid_response(GOOD[name]) is GOOD[name]


BAD: dict[str, tuple[str, Any]] = {
    # R1: top-level members
    "not an object": ("R1", ["sessionState"]),
    "no sessionState": ("R1", {"messages": [{"contentType": "PlainText", "content": "hi"}]}),
    "unknown top-level key": ("R1", close(statusCode=200)),
    "sessionState not an object": ("R1", {"sessionState": "Close"}),
    # R2: dialog action and its type
    "no dialogAction": ("R2", {"sessionState": {"intent": {"name": "A", "state": "Fulfilled"}}}),
    "type None": ("R2", {"sessionState": {"dialogAction": {"type": "None"}}}),
    # R3: what each dialog action needs
    "elicit slot without slotToElicit": (
        "R3",
        {"sessionState": {"dialogAction": {"type": "ElicitSlot"}, "intent": {"name": "A"}}},
    ),
    "elicit slot without intent": (
        "R3",
        {"sessionState": {"dialogAction": {"type": "ElicitSlot", "slotToElicit": "X"}}},
    ),
    "confirm without message": (
        "R3",
        {"sessionState": {"dialogAction": {"type": "ConfirmIntent"}, "intent": {"name": "A", "slots": {}}}},
    ),
    "confirm without slots": (
        "R3",
        {
            "sessionState": {"dialogAction": {"type": "ConfirmIntent"}, "intent": {"name": "A"}},
            "messages": [{"contentType": "PlainText", "content": "Sure?"}],
        },
    ),
    "elicit intent without message": ("R3", {"sessionState": {"dialogAction": {"type": "ElicitIntent"}}}),
    "close without intent": ("R3", {"sessionState": {"dialogAction": {"type": "Close"}}}),
    # R4: intent state with Close; ReadyForFulfillment only with Delegate
    "close without state": ("R4", {"sessionState": {"dialogAction": {"type": "Close"}, "intent": {"name": "A"}}}),
    "close ready for fulfillment": ("R4", close("ReadyForFulfillment")),
    "close waiting": ("R4", close("Waiting")),
    "elicit intent ready for fulfillment": (
        "R4",
        {
            "sessionState": {
                "dialogAction": {"type": "ElicitIntent"},
                "intent": {"name": "A", "state": "ReadyForFulfillment"},
            },
            "messages": [{"contentType": "PlainText", "content": "?"}],
        },
    ),
    # R5: attribute maps are string -> string, session attributes <= 12 KB as base64
    "number attribute": ("R5", with_state(sessionAttributes={"visits": 3})),
    "empty attribute key": ("R5", with_state(sessionAttributes={"": "x"})),
    "session attributes too big": ("R5", with_state(sessionAttributes={f"k{i}": "x" * 100 for i in range(90)})),
    "request attribute not a string": ("R5", close(requestAttributes={"a": ["b"]})),
    # R6: messages
    "eleven messages": ("R6", close(messages=[{"contentType": "PlainText", "content": "x"}] * 11)),
    "message without content": ("R6", close(messages=[{"contentType": "PlainText"}])),
    "message empty content": ("R6", close(messages=[{"contentType": "PlainText", "content": ""}])),
    "message too long": ("R6", close(messages=[{"contentType": "PlainText", "content": "x" * 1025}])),
    "unknown content type": ("R6", close(messages=[{"contentType": "Markdown", "content": "x"}])),
    "card without card": ("R6", close(messages=[{"contentType": "ImageResponseCard"}])),
    "card without title": ("R6", close(messages=[{"contentType": "ImageResponseCard", "imageResponseCard": {}}])),
    "card with four buttons": (
        "R6",
        close(
            messages=[
                {
                    "contentType": "ImageResponseCard",
                    "imageResponseCard": {
                        "title": "t",
                        "buttons": [{"text": str(i), "value": str(i)} for i in range(4)],
                    },
                }
            ]
        ),
    ),
    "button text too long": (
        "R6",
        close(
            messages=[
                {
                    "contentType": "ImageResponseCard",
                    "imageResponseCard": {"title": "t", "buttons": [{"text": "x" * 51, "value": "x"}]},
                }
            ]
        ),
    ),
    # R7: session state shapes of the runtime model
    "empty intent name": ("R7", with_state(intent={"name": "", "state": "Fulfilled"})),
    "unknown intent state": ("R7", with_state(intent={"name": "A", "state": "Done"})),
    "unknown confirmation state": (
        "R7",
        with_state(intent={"name": "A", "state": "Fulfilled", "confirmationState": "Yes"}),
    ),
    "slot value without interpretedValue": (
        "R7",
        with_state(intent={"name": "A", "state": "Fulfilled", "slots": {"City": {"value": {"originalValue": "oslo"}}}}),
    ),
    "unknown slot shape": (
        "R7",
        with_state(
            intent={
                "name": "A",
                "state": "Fulfilled",
                "slots": {"City": {"shape": "Tuple", "value": {"interpretedValue": "x"}}},
            }
        ),
    ),
    "unknown member in intent": ("R7", with_state(intent={"name": "A", "state": "Fulfilled", "nluConfidence": 1})),
    "context bad name": (
        "R7",
        with_state(
            activeContexts=[
                {
                    "name": "bad name",
                    "timeToLive": {"timeToLiveInSeconds": 60, "turnsToLive": 1},
                    "contextAttributes": {},
                }
            ]
        ),
    ),
    "context ttl too short": (
        "R7",
        with_state(
            activeContexts=[
                {"name": "c", "timeToLive": {"timeToLiveInSeconds": 1, "turnsToLive": 1}, "contextAttributes": {}}
            ]
        ),
    ),
    "context without attributes": (
        "R7",
        with_state(activeContexts=[{"name": "c", "timeToLive": {"timeToLiveInSeconds": 60, "turnsToLive": 1}}]),
    ),
    "too many contexts": (
        "R7",
        with_state(
            activeContexts=[
                {"name": f"c{i}", "timeToLive": {"timeToLiveInSeconds": 60, "turnsToLive": 1}, "contextAttributes": {}}
                for i in range(21)
            ]
        ),
    ),
    "empty originatingRequestId": ("R7", with_state(originatingRequestId="")),
    # R9: size and plain JSON
    "over 50 KB": (
        "R9",
        close(
            messages=[{"contentType": "PlainText", "content": "x" * 1024}] * 10,
            requestAttributes={f"k{i}": "y" * 1000 for i in range(45)},
        ),
    ),
    "not JSON (NaN)": ("R9", close(requestAttributes={"a": float("nan")})),
    # R10: ElicitSlot-only members
    "slotToElicit with Close": ("R10", with_state(dialogAction={"type": "Close", "slotToElicit": "City"})),
    "style with Delegate": (
        "R10",
        {"sessionState": {"dialogAction": {"type": "Delegate", "slotElicitationStyle": "Default"}}},
    ),
    # R11: optional members are left out, not null
    "null messages": ("R11", close(messages=None)),
    "null sessionAttributes": ("R11", with_state(sessionAttributes=None)),
}


@pytest.mark.parametrize("name", list(BAD))
def test_each_rule_rejects_a_bad_response(name: str) -> None:
    rule, response = BAD[name]
    assert rule in rules(response), validate_response(response)
    with pytest.raises(InvalidLexResponse, match=rf"\[{rule}\]"):
        assert_valid_response(response)


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    checked = {rule for rule, _ in BAD.values()}
    assert checked == {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R9", "R10", "R11"}
    assert all(not validate_response(r) for r in GOOD.values())


def test_unfilled_slots_are_null_but_other_map_values_are_not() -> None:
    assert validate_response(with_state(intent={"name": "A", "state": "Fulfilled", "slots": {"City": None}})) == []
    assert "R5" in rules(with_state(sessionAttributes={"a": None}))


def test_problems_name_the_path() -> None:
    [problem] = validate_response(with_state(intent={"name": "A", "state": "Fulfilled", "confirmationState": "Yes"}))
    assert problem.path == "$.sessionState.intent.confirmationState"
    assert "Yes" in str(problem)


def test_validating_does_not_change_the_response() -> None:
    response = BAD["card with four buttons"][1]
    before = copy.deepcopy(response)
    validate_response(response)
    assert response == before


def test_command_line(tmp_path, capsys) -> None:
    good, bad, broken = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "broken.json"
    good.write_text(json.dumps(close()))
    bad.write_text(json.dumps(close("Waiting")))
    broken.write_text("{")
    assert main([str(good)]) == 0
    assert main([str(good), str(bad)]) == 1
    assert "[R4]" in capsys.readouterr().out
    assert main([str(broken)]) == 2
    assert main([]) == 2
