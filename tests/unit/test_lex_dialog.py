"""Dialog-action and message builders: every response they build is a valid Lex V2 response."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatstate.lex import dialog
from chatstate.lex.models import MAX_MESSAGE_CHARS, MAX_MESSAGES, ActiveContext, LexEvent, TimeToLive
from tests.lexkit import assert_valid, load_event


@pytest.fixture
def intent():
    return LexEvent.model_validate(load_event("lex_book_flight_dialog")).intent


@pytest.mark.parametrize("state", ["Fulfilled", "Failed", "InProgress"])
def test_close_states(intent, state):
    response = assert_valid(dialog.close(intent, state, "Done.").to_dict())
    assert response["sessionState"]["intent"]["state"] == state
    assert response["sessionState"]["intent"]["slots"]["DepartureCity"]["value"]["interpretedValue"] == "Seattle"
    assert response["sessionState"]["intent"]["slots"]["DepartureDate"] is None


def test_elicit_slot_with_style_and_composite_sub_slot(intent):
    response = assert_valid(
        dialog.elicit_slot(
            intent, "Address", "Which street?", style="SpellByWord", sub_slot=["Street", "Name"]
        ).to_dict()
    )
    action = response["sessionState"]["dialogAction"]
    assert action == {
        "type": "ElicitSlot",
        "slotToElicit": "Address",
        "slotElicitationStyle": "SpellByWord",
        "subSlotToElicit": {"name": "Street", "subSlotToElicit": {"name": "Name"}},
    }
    assert response["sessionState"]["intent"]["name"] == "BookFlight"


def test_elicit_slot_without_message_uses_the_bots_prompt(intent):
    response = assert_valid(dialog.elicit_slot(intent, "DepartureDate").to_dict())
    assert "messages" not in response


def test_elicit_intent_needs_a_message():
    assert_valid(dialog.elicit_intent("What else?").to_dict())
    with pytest.raises(TypeError):
        dialog.elicit_intent()


def test_delegate_minimal_and_with_intent(intent):
    assert assert_valid(dialog.delegate().to_dict()) == {"sessionState": {"dialogAction": {"type": "Delegate"}}}
    response = assert_valid(dialog.delegate(intent).to_dict())
    assert response["sessionState"]["intent"]["name"] == "BookFlight"


def test_confirm_intent_sends_the_slots_and_a_prompt(intent):
    response = assert_valid(dialog.confirm_intent(intent, "Seattle to Boston, right?").to_dict())
    assert response["sessionState"]["dialogAction"] == {"type": "ConfirmIntent"}
    assert "DepartureCity" in response["sessionState"]["intent"]["slots"]
    assert response["messages"][0]["content"] == "Seattle to Boston, right?"
    assert_valid(dialog.confirm_intent("Greeting", "Sure?").to_dict())


def test_set_slots_scalar_list_composite_include_interpreted_value(intent):
    updated = dialog.set_slot(intent, "DepartureDate", "2030-01-02")
    updated = dialog.set_list_slot(updated, "Extras", ["bag", "seat"])
    updated = dialog.set_composite_slot(updated, "Address", {"Street": "Main", "Zip": None})
    updated = dialog.set_slot(updated, "ArrivalCity", None)
    assert dialog.get_slot(updated, "DepartureDate") == "2030-01-02"
    assert dialog.get_slot_values(updated, "Extras") == ["bag", "seat"]
    assert dialog.get_sub_slot(updated, "Address", "Street") == "Main"
    assert dialog.get_slot(updated, "ArrivalCity") is None
    response = assert_valid(dialog.delegate(updated).to_dict())
    slots = response["sessionState"]["intent"]["slots"]
    assert slots["DepartureDate"]["value"]["interpretedValue"] == "2030-01-02"
    assert slots["Address"]["subSlots"]["Zip"] is None
    # the inbound intent is untouched
    assert dialog.get_slot(intent, "ArrivalCity") == "Boston"


def test_message_builders(intent):
    card = dialog.image_card(
        "Pick a city",
        subtitle="Where to?",
        image_url="https://example.com/c.png",
        buttons=["Boston", ("New York", "NYC"), dialog.Button(text="Paris", value="Paris")],
    )
    messages = [dialog.plain_text("Hi"), dialog.ssml("<speak>Hi</speak>"), dialog.custom_payload('{"a":1}'), card]
    response = assert_valid(dialog.close(intent, "Fulfilled", *messages).to_dict())
    types = [m["contentType"] for m in response["messages"]]
    assert types == ["PlainText", "SSML", "CustomPayload", "ImageResponseCard"]
    assert response["messages"][3]["imageResponseCard"]["buttons"][1] == {"text": "New York", "value": "NYC"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: dialog.plain_text(""),
        lambda: dialog.plain_text("x" * 1025),
        lambda: dialog.image_card(""),
        lambda: dialog.image_card("t", buttons=[str(i) for i in range(6)]),
        lambda: dialog.image_card("t", buttons=["x" * 51]),
        lambda: dialog.close("X", "Fulfilled", *[dialog.plain_text("m")] * 11),
    ],
)
def test_botocore_limits_are_enforced(build):
    with pytest.raises(ValidationError):
        build()


def words(count: int) -> str:
    return " ".join(f"word{i}" for i in range(count))


@pytest.mark.parametrize("length", [1024, 1025, 3000, 9000])
def test_long_text_is_split_across_messages_lex_accepts(intent, length):
    text = (words(2000) + " ")[:length].strip()
    response = assert_valid(dialog.close(intent, "Fulfilled", text).to_dict())
    contents = [m["content"] for m in response["messages"]]
    assert all(1 <= len(c) <= MAX_MESSAGE_CHARS for c in contents)
    assert " ".join(contents) == text  # split between words, nothing lost


def test_text_beyond_ten_messages_is_cut_cleanly(intent):
    response = assert_valid(dialog.elicit_intent(words(5000), "and a second one").to_dict())
    contents = [m["content"] for m in response["messages"]]
    assert len(contents) == MAX_MESSAGES
    assert contents[-1].endswith("…")
    assert all(len(c) <= MAX_MESSAGE_CHARS for c in contents)


def test_strings_share_the_room_models_leave(intent):
    card = dialog.image_card("Pick one", buttons=["a", "b"])
    response = assert_valid(dialog.close(intent, "Fulfilled", card, words(5000), card).to_dict())
    types = [m["contentType"] for m in response["messages"]]
    assert types == ["ImageResponseCard", *["PlainText"] * (MAX_MESSAGES - 2), "ImageResponseCard"]


def test_blank_text_is_left_out(intent):
    response = assert_valid(dialog.close(intent, "Fulfilled", "   ", "Done.").to_dict())
    assert [m["content"] for m in response["messages"]] == ["Done."]


def test_active_contexts_only_when_asked(intent):
    assert "activeContexts" not in dialog.close(intent, "Fulfilled").to_dict()["sessionState"]
    context = ActiveContext(
        name="booking_made",
        time_to_live=TimeToLive(time_to_live_in_seconds=300, turns_to_live=3),
        context_attributes={"city": "Boston"},
    )
    response = assert_valid(dialog.close(intent, "Fulfilled", active_contexts=[context]).to_dict())
    assert response["sessionState"]["activeContexts"][0]["name"] == "booking_made"
    with pytest.raises(ValidationError):
        ActiveContext(
            name="bad name", time_to_live=TimeToLive(time_to_live_in_seconds=5, turns_to_live=1), context_attributes={}
        )
