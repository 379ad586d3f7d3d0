"""Dialog-action builders, message builders and slot accessors for Lex V2 responses.

Every builder returns a validated ``LexResponse``, so the response rules of docs/lex-v2.md hold by construction:
``close`` accepts only ``Fulfilled``/``Failed``/``InProgress``; ``elicit_intent`` and
``confirm_intent`` need a message; ``confirm_intent`` sends the slots; elicitation style and
sub-slots exist only on ``elicit_slot``; no active context is added unless the caller passes one.

Text given as ``str`` always fits Lex's limits (``MAX_MESSAGE_CHARS`` per message, ``MAX_MESSAGES``
per response): longer text is split across messages at word boundaries, and what would not fit in
the last message is cut with an ellipsis (``fit_text``). Blank strings are left out.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeIs

from chatstate.lex.models import (
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES,
    ActiveContext,
    Button,
    CloseState,
    ConfirmationState,
    CustomPayloadMessage,
    DialogAction,
    ElicitationStyle,
    ElicitSubSlot,
    ImageResponseCard,
    ImageResponseCardMessage,
    Intent,
    IntentState,
    LexIntent,
    LexMessage,
    LexResponse,
    LexSlot,
    PlainTextMessage,
    SessionState,
    Slot,
    SSMLMessage,
    Value,
)

MessageLike = PlainTextMessage | SSMLMessage | CustomPayloadMessage | ImageResponseCardMessage | str
"""A message model, or a ``str`` meaning a PlainText message."""

IntentLike = Intent | LexIntent | str
"""A response intent, the inbound intent (converted with its slots) or just an intent name."""

_RESPONSE_STATES: frozenset[str | None] = frozenset(typing.get_args(IntentState))
_CONFIRMATION_STATES: frozenset[str | None] = frozenset(typing.get_args(ConfirmationState))


def _response_state(state: str | None) -> TypeIs[IntentState]:
    return state in _RESPONSE_STATES


def _confirmation_state(state: str | None) -> TypeIs[ConfirmationState]:
    return state in _CONFIRMATION_STATES


# -- messages ----------------------------------------------------------------------------------------
def plain_text(content: str) -> PlainTextMessage:
    """A PlainText message (1..1024 characters)."""
    return PlainTextMessage(content=content)


def ssml(content: str) -> SSMLMessage:
    """An SSML message, e.g. ``<speak>Hi</speak>`` (1..1024 characters)."""
    return SSMLMessage(content=content)


def custom_payload(content: str) -> CustomPayloadMessage:
    """A CustomPayload message for the client to interpret (1..1024 characters)."""
    return CustomPayloadMessage(content=content)


def image_card(
    title: str,
    *,
    subtitle: str | None = None,
    image_url: str | None = None,
    buttons: Iterable[Button | tuple[str, str] | str] = (),
) -> ImageResponseCardMessage:
    """An ImageResponseCard message; a button may be a ``Button``, ``(text, value)`` or one string for both."""
    built = [_button(b) for b in buttons]
    card = ImageResponseCard(title=title, subtitle=subtitle, image_url=image_url, buttons=built or None)
    return ImageResponseCardMessage(image_response_card=card)


def _button(button: Button | tuple[str, str] | str) -> Button:
    if isinstance(button, Button):
        return button
    if isinstance(button, str):
        return Button(text=button, value=button)
    text, value = button
    return Button(text=text, value=value)


ELLIPSIS = "…"


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at whitespace where possible; blank → ``[]``."""
    rest = text.strip()
    pieces: list[str] = []
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:  # no space in the second half: cut inside the word
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def fit_text(texts: Sequence[str], *, room: int = MAX_MESSAGES) -> list[str]:
    """Message contents for ``texts`` that Lex accepts: split, at most ``room`` of them, the last cut cleanly."""
    pieces = [piece for text in texts for piece in split_text(text)]
    if len(pieces) <= room:
        return pieces
    kept = pieces[:room]
    last = kept[-1][: MAX_MESSAGE_CHARS - len(ELLIPSIS)].rstrip()
    kept[-1] = last + ELLIPSIS
    return kept


def _messages(messages: Sequence[MessageLike]) -> list[LexMessage] | None:
    """Models as given; each run of ``str`` split/cut to fit what room the models leave."""
    models = sum(1 for m in messages if not isinstance(m, str))
    room = MAX_MESSAGES - models
    built: list[LexMessage] = []
    run: list[str] = []
    for message in [*messages, None]:
        if isinstance(message, str):
            run.append(message)
            continue
        if run:
            fitted = fit_text(run, room=max(room, 0))
            room -= len(fitted)
            built.extend(plain_text(text) for text in fitted)
            run = []
        if message is not None:
            built.append(message)
    return built or None


# -- intents and slots -------------------------------------------------------------------------------
def to_response_slot(slot: LexSlot | None) -> Slot | None:
    """Convert an inbound slot to a response slot (``None`` when it has no usable interpreted value)."""
    if slot is None:
        return None
    value = None
    if slot.value is not None:
        interpreted = slot.value.interpreted_value or slot.value.original_value
        if interpreted:
            value = Value(
                interpreted_value=interpreted,
                original_value=slot.value.original_value,
                resolved_values=list(slot.value.resolved_values) or None,
            )
    values = [s for s in (to_response_slot(v) for v in slot.values) if s is not None] or None
    subs = {k: to_response_slot(v) for k, v in slot.sub_slots.items()} or None
    if value is None and values is None and subs is None:
        return None
    shape = slot.shape if slot.shape in ("Scalar", "List", "Composite") else None
    return Slot(shape=shape, value=value, values=values, sub_slots=subs)


def to_response_intent(intent: IntentLike, *, keep_state: bool = True) -> Intent:
    """A response ``Intent`` from an inbound intent (slots converted), a response intent or a name."""
    if isinstance(intent, Intent):
        return intent
    if isinstance(intent, str):
        return Intent(name=intent)
    state = intent.state if keep_state and _response_state(intent.state) else None
    confirmation = intent.confirmation_state if _confirmation_state(intent.confirmation_state) else None
    return Intent(
        name=intent.name,
        slots={name: to_response_slot(slot) for name, slot in intent.slots.items()},
        state=state,
        confirmation_state=confirmation,
    )


def _slot_of(intent: IntentLike, name: str) -> LexSlot | Slot | None:
    if isinstance(intent, str):
        return None
    return (intent.slots or {}).get(name)


def _interpreted(slot: LexSlot | Slot | None) -> str | None:
    if slot is None or slot.value is None:
        return None
    return slot.value.interpreted_value or None


def get_slot(intent: IntentLike, name: str) -> str | None:
    """The interpreted value of a Scalar slot (for a List slot: its combined value), or ``None``."""
    return _interpreted(_slot_of(intent, name))


def get_slot_values(intent: IntentLike, name: str) -> list[str]:
    """The interpreted values of a List slot (a Scalar slot gives a one-item list; unfilled: ``[]``)."""
    slot = _slot_of(intent, name)
    if slot is None:
        return []
    if slot.values:
        return [v for v in (_interpreted(s) for s in slot.values) if v]
    single = _interpreted(slot)
    return [single] if single else []


def get_sub_slot(intent: IntentLike, name: str, sub_slot: str) -> str | None:
    """The interpreted value of one sub-slot of a Composite slot, or ``None``."""
    slot = _slot_of(intent, name)
    if slot is None or not slot.sub_slots:
        return None
    return _interpreted(slot.sub_slots.get(sub_slot))


def _scalar(value: str, original: str | None = None) -> Slot:
    return Slot(
        shape="Scalar",
        value=Value(interpreted_value=value, original_value=original or value, resolved_values=[value]),
    )


def _with_slot(intent: IntentLike, name: str, slot: Slot | None) -> Intent:
    base = to_response_intent(intent)
    slots = dict(base.slots or {})
    slots[name] = slot
    return base.model_copy(update={"slots": slots})


def set_slot(intent: IntentLike, name: str, value: str | None) -> Intent:
    """A copy of the intent with a Scalar slot set (``interpretedValue`` included) or cleared (``None``)."""
    return _with_slot(intent, name, None if value is None else _scalar(value))


def set_list_slot(intent: IntentLike, name: str, values: Sequence[str]) -> Intent:
    """A copy of the intent with a List slot set to ``values`` (cleared when empty)."""
    if not values:
        return _with_slot(intent, name, None)
    joined = ", ".join(values)
    slot = Slot(
        shape="List",
        value=Value(interpreted_value=joined, original_value=joined, resolved_values=list(values)),
        values=[_scalar(v) for v in values],
    )
    return _with_slot(intent, name, slot)


def set_composite_slot(intent: IntentLike, name: str, sub_slots: Mapping[str, str | None]) -> Intent:
    """A copy of the intent with a Composite slot whose sub-slots are set (``None`` leaves one unfilled)."""
    subs = {k: (None if v is None else _scalar(v)) for k, v in sub_slots.items()}
    return _with_slot(intent, name, Slot(shape="Composite", sub_slots=subs))


# -- dialog actions ----------------------------------------------------------------------------------
def _response(
    action: DialogAction,
    intent: Intent | None,
    messages: Sequence[MessageLike],
    *,
    active_contexts: Sequence[ActiveContext] | None = None,
    request_attributes: Mapping[str, str] | None = None,
    originating_request_id: str | None = None,
) -> LexResponse:
    state = SessionState(
        dialog_action=action,
        intent=intent,
        active_contexts=list(active_contexts) if active_contexts else None,
        originating_request_id=originating_request_id,
    )
    return LexResponse(
        session_state=state,
        messages=_messages(messages),
        request_attributes=dict(request_attributes) if request_attributes is not None else None,
    )


def close(
    intent: IntentLike,
    state: CloseState = "Fulfilled",
    *messages: MessageLike,
    **options: Any,
) -> LexResponse:
    """End the intent: ``Close`` with state ``Fulfilled``, ``Failed`` or ``InProgress`` (never ReadyForFulfillment).

    Args:
        intent: The intent being closed (its slots are kept).
        state: The final intent state.
        *messages: Up to 10 messages (a ``str`` is PlainText).
        **options: ``active_contexts``, ``request_attributes``, ``originating_request_id``.
    """
    if state not in ("Fulfilled", "Failed", "InProgress"):
        raise ValueError(f"Close cannot carry intent state {state!r}")
    closed = to_response_intent(intent).model_copy(update={"state": state})
    return _response(DialogAction(type="Close"), closed, messages, **options)


def elicit_slot(
    intent: IntentLike,
    slot: str,
    *messages: MessageLike,
    style: ElicitationStyle | None = None,
    sub_slot: str | Sequence[str] | None = None,
    **options: Any,
) -> LexResponse:
    """Ask for a slot (``ElicitSlot``), optionally a sub-slot path of a composite slot and a spelling style.

    Args:
        intent: The intent whose slot is elicited.
        slot: The slot name.
        *messages: The prompt (leave out to use the bot's configured prompt).
        style: ``Default``, ``SpellByLetter`` or ``SpellByWord``.
        sub_slot: A sub-slot name, or a path of nested sub-slot names, to elicit inside a composite slot.
        **options: ``active_contexts``, ``request_attributes``, ``originating_request_id``.
    """
    path = [sub_slot] if isinstance(sub_slot, str) else list(sub_slot or [])
    nested: ElicitSubSlot | None = None
    for name in reversed(path):
        nested = ElicitSubSlot(name=name, sub_slot_to_elicit=nested)
    action = DialogAction(
        type="ElicitSlot", slot_to_elicit=slot, slot_elicitation_style=style, sub_slot_to_elicit=nested
    )
    elicited = to_response_intent(intent)
    if elicited.state not in (None, "InProgress"):
        elicited = elicited.model_copy(update={"state": "InProgress"})
    return _response(action, elicited, messages, **options)


def elicit_intent(message: MessageLike, *more: MessageLike, **options: Any) -> LexResponse:
    """Ask the user what they want next (``ElicitIntent``); at least one message is required."""
    return _response(DialogAction(type="ElicitIntent"), None, [message, *more], **options)


def delegate(intent: IntentLike | None = None, **options: Any) -> LexResponse:
    """Let Lex choose the next action (``Delegate``), optionally with the (updated) intent."""
    chosen = to_response_intent(intent) if intent is not None else None
    return _response(DialogAction(type="Delegate"), chosen, (), **options)


def confirm_intent(intent: IntentLike, message: MessageLike, *more: MessageLike, **options: Any) -> LexResponse:
    """Ask the user to confirm the intent (``ConfirmIntent``) with a yes/no prompt; the slots are sent."""
    confirmed = to_response_intent(intent)
    updates: dict[str, Any] = {"confirmation_state": "None"}
    if confirmed.slots is None:
        updates["slots"] = {}
    if confirmed.state not in (None, "InProgress"):
        updates["state"] = "InProgress"
    return _response(
        DialogAction(type="ConfirmIntent"), confirmed.model_copy(update=updates), [message, *more], **options
    )
