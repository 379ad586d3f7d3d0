"""Lex V2 event parsing (lenient, docs/lex-v2.md E1-E9) and response models (strict, R1-R12)."""

from __future__ import annotations

import copy
import json

import pytest
from pydantic import ValidationError

from chatstate.lex import dialog
from chatstate.lex.models import (
    DialogAction,
    Intent,
    LexEvent,
    LexResponse,
    SessionState,
)
from tests.lexkit import assert_valid, load_event, sample_events, shape_event


@pytest.mark.parametrize("path", sample_events(), ids=lambda p: p.name)
def test_every_corpus_event_parses_without_touching_it(path):
    raw = json.loads(path.read_text())
    before = copy.deepcopy(raw)
    event = LexEvent.model_validate(raw)
    assert raw == before
    assert event.session_id
    assert event.invocation_source in ("DialogCodeHook", "FulfillmentCodeHook")


def test_nlu_confidence_as_number_score_object_or_absent():
    event = LexEvent.model_validate(load_event("lex_nlu_confidence_score"))
    assert event.interpretations[0].nlu_confidence == pytest.approx(0.92)
    assert event.interpretations[1].nlu_confidence is None
    plain = LexEvent.model_validate(load_event("lex_greeting"))
    assert plain.interpretations[0].nlu_confidence == pytest.approx(0.92)


def test_missing_or_null_optional_members_are_accepted():
    raw = load_event("lex_greeting")
    del raw["sessionState"]["sessionAttributes"]
    raw["requestAttributes"] = None
    raw["interpretations"] = None
    raw["transcriptions"] = None
    raw["inputTranscript"] = None
    raw["sessionState"]["activeContexts"] = None
    raw["sessionState"]["intent"]["slots"] = None
    raw["brandNewField"] = {"anything": [1, 2]}
    raw["sessionState"]["intent"]["newIntentField"] = True
    event = LexEvent.model_validate(raw)
    assert event.session_state.session_attributes is None
    assert event.request_attributes is None
    assert event.interpretations == []
    assert event.input_transcript == ""
    assert event.intent.slots == {}


def test_reserved_request_attributes_and_bedrock_source_are_kept():
    raw = load_event("lex_nlu_confidence_score")
    raw["interpretations"][0]["interpretationSource"] = "Bedrock"
    event = LexEvent.model_validate(raw)
    assert event.request_attributes is not None
    assert event.request_attributes["x-amz-lex:channels:platform"] == "Connect"
    assert event.interpretations[0].interpretation_source == "Bedrock"


def test_slot_shapes_scalar_list_composite_and_null():
    raw = load_event("lex_book_flight_dialog")
    raw["sessionState"]["intent"]["slots"].update(
        {
            "Tags": {
                "shape": "List",
                "value": {"originalValue": "a b", "interpretedValue": "a b", "resolvedValues": []},
                "values": [
                    {"shape": "Scalar", "value": {"originalValue": "a", "interpretedValue": "a", "resolvedValues": []}},
                    {"shape": "Scalar", "value": {"originalValue": "b", "interpretedValue": "b"}},
                ],
            },
            "Address": {
                "shape": "Composite",
                "value": {"originalValue": "1 Main St", "interpretedValue": "1 Main St", "resolvedValues": []},
                "subSlots": {"Street": {"value": {"originalValue": "Main", "interpretedValue": "Main"}}, "Zip": None},
            },
            "NoShape": {"value": {"originalValue": "x", "interpretedValue": "x"}},
        }
    )
    intent = LexEvent.model_validate(raw).intent
    assert dialog.get_slot(intent, "DepartureCity") == "Seattle"
    assert dialog.get_slot(intent, "DepartureDate") is None
    assert dialog.get_slot_values(intent, "Tags") == ["a", "b"]
    assert dialog.get_sub_slot(intent, "Address", "Street") == "Main"
    assert dialog.get_sub_slot(intent, "Address", "Zip") is None
    assert dialog.get_slot(intent, "NoShape") == "x"
    assert dialog.get_slot(intent, "Missing") is None


def test_transcription_resolved_slots_without_interpreted_value():
    event = LexEvent.model_validate(shape_event("dialog_speech_proposed_retry"))
    slots = [s for t in event.transcriptions for s in t.resolved_slots.values() if s is not None]
    assert slots
    assert any(s.value is not None and s.value.interpreted_value is None for s in slots)


def test_kendra_response_and_waiting_state_are_parsed():
    event = LexEvent.model_validate(shape_event("kendra_search_intent"))
    assert event.intent.kendra_response
    event = LexEvent.model_validate(shape_event("intent_waiting_and_contexts"))
    assert event.proposed_next_state is not None
    assert event.proposed_next_state.intent is not None
    assert event.proposed_next_state.intent.state == "Waiting"
    assert event.proposed_next_state.prompt is None


@pytest.mark.parametrize("raw", [{}, {"sessionState": {}}, {"invocationSource": 3}, [], "x", None])
def test_an_event_without_its_essentials_fails_to_parse(raw):
    with pytest.raises(ValidationError):
        LexEvent.model_validate(raw)


# -- responses -------------------------------------------------------------------------------------
def test_close_cannot_carry_ready_for_fulfillment():
    with pytest.raises(ValueError, match="Close"):
        dialog.close("BookFlight", "ReadyForFulfillment")
    with pytest.raises(ValidationError):
        LexResponse(
            session_state=SessionState(
                dialog_action=DialogAction(type="Close"), intent=Intent(name="X", state="ReadyForFulfillment")
            )
        )


def test_required_fields_per_dialog_action_are_enforced():
    with pytest.raises(ValidationError):
        LexResponse(session_state=SessionState(dialog_action=DialogAction(type="ElicitIntent")))
    with pytest.raises(ValidationError):
        LexResponse(session_state=SessionState(dialog_action=DialogAction(type="ElicitSlot", slot_to_elicit="A")))
    with pytest.raises(ValidationError):
        DialogAction(type="ElicitSlot")
    with pytest.raises(ValidationError):
        DialogAction(type="Delegate", slot_elicitation_style="SpellByLetter")
    with pytest.raises(ValidationError):
        Intent(name="")


def test_responses_have_no_nulls_and_only_lex_top_level_keys():
    response = dialog.close("Greeting", "Fulfilled", "Hi").to_dict()
    assert set(response) <= {"sessionState", "messages", "requestAttributes"}
    assert "null" not in json.dumps(response)
    assert_valid(response)


def test_unknown_response_members_are_refused():
    with pytest.raises(ValidationError):
        Intent(name="X", sessionId="abc")


def test_the_shape_corpus_covers_every_shape_lex_sends():
    """docs/lex-v2.md E2-E7: the corpus must keep an example of each, so the tests above see them all."""
    events = [json.loads(p.read_text()) for p in sample_events()]
    seen: dict[str, set] = {k: set() for k in ("source", "mode", "slot", "confidence", "interpretation", "confirm")}
    flags: set[str] = set()

    def slots_of(intent):
        for slot in (intent.get("slots") or {}).values():
            if slot is None:
                seen["slot"].add("null")
                continue
            seen["slot"].add(slot.get("shape", "no shape"))
            for sub in (slot.get("subSlots") or {}).values():
                seen["slot"].add("null sub-slot" if sub is None else "sub-slot")

    for event in events:
        state = event["sessionState"]
        seen["source"].add(event["invocationSource"])
        seen["mode"].add(event["inputMode"])
        slots_of(state["intent"])
        seen["confirm"].add(state["intent"].get("confirmationState"))
        if "sessionAttributes" not in state:
            flags.add("no sessionAttributes")
        if "requestAttributes" not in event:
            flags.add("no requestAttributes")
        elif event["requestAttributes"] is None:
            flags.add("null requestAttributes")
        elif any(k.startswith("x-amz-lex:") for k in event["requestAttributes"]):
            flags.add("reserved requestAttributes")
        if "kendraResponse" in state["intent"]:
            flags.add("kendra")
        next_state = event.get("proposedNextState")
        if next_state is not None:
            flags.add("proposedNextState with prompt" if "prompt" in next_state else "proposedNextState without prompt")
        for interpretation in event["interpretations"]:
            seen["interpretation"].add(interpretation["interpretationSource"])
            confidence = interpretation.get("nluConfidence")
            seen["confidence"].add(type(confidence).__name__ if confidence is not None else "absent")
        for transcription in event.get("transcriptions") or []:
            for slot in transcription.get("resolvedSlots", {}).values():
                if slot and "interpretedValue" not in slot.get("value", {}):
                    flags.add("resolved slot without interpretedValue")

    assert seen["source"] == {"DialogCodeHook", "FulfillmentCodeHook"}
    assert seen["mode"] == {"Text", "Speech", "DTMF"}
    assert {"Scalar", "List", "Composite", "no shape", "null", "null sub-slot"} <= seen["slot"]
    assert seen["confidence"] == {"float", "dict", "absent"}
    assert seen["interpretation"] == {"Lex", "Bedrock"}
    assert seen["confirm"] == {"None", "Confirmed", "Denied"}
    assert flags == {
        "no sessionAttributes",
        "no requestAttributes",
        "null requestAttributes",
        "reserved requestAttributes",
        "kendra",
        "proposedNextState with prompt",
        "proposedNextState without prompt",
        "resolved slot without interpretedValue",
    }
