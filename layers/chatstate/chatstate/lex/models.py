"""Pydantic models of the Lex V2 code-hook event (lenient) and response (strict).

Input models follow docs/lex-v2.md E1-E9: unknown fields are ignored, every optional member may be missing
or ``null``, enum-like strings are kept as plain strings (new values must not fail a turn) and
``nluConfidence`` is accepted as a number or as ``{"score": n}``.

Response models follow docs/lex-v2.md R1-R11: unknown members are forbidden, lengths and counts carry the botocore
``lexv2-runtime`` limits, and ``LexResponse`` checks the per-dialog-action required fields, so an
invalid response cannot be built. Serialise with ``LexResponse.to_dict()``
(``model_dump(by_alias=True, exclude_none=True)``): optional members are left out, never ``null``,
except the values of a slot map, where ``null`` means "unfilled".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.alias_generators import to_camel

# ---------------------------------------------------------------------------------------------------
# Input: the event Lex sends (lenient)
# ---------------------------------------------------------------------------------------------------

_IN = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

INVOCATION_DIALOG = "DialogCodeHook"
INVOCATION_FULFILLMENT = "FulfillmentCodeHook"


class LexValue(BaseModel):
    """A slot value as Lex sends it; ``interpretedValue`` can be missing in ``transcriptions``."""

    model_config = _IN

    original_value: str | None = None
    interpreted_value: str | None = None
    resolved_values: list[str] = Field(default_factory=list)

    @field_validator("resolved_values", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class LexSlot(BaseModel):
    """An inbound slot: Scalar, List (``values``) or Composite (``subSlots``); ``shape`` may be absent."""

    model_config = _IN

    shape: str | None = None
    value: LexValue | None = None
    values: list[LexSlot] = Field(default_factory=list)
    sub_slots: dict[str, LexSlot | None] = Field(default_factory=dict)

    @field_validator("values", "sub_slots", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any, info: Any) -> Any:
        if value is None:
            return [] if info.field_name == "values" else {}
        return value


class LexIntent(BaseModel):
    """An inbound intent (any state Lex uses, including ``Waiting`` and ``FulfillmentInProgress``)."""

    model_config = _IN

    name: str = ""
    slots: dict[str, LexSlot | None] = Field(default_factory=dict)
    state: str | None = None
    confirmation_state: str | None = None
    kendra_response: dict[str, Any] | None = None

    @field_validator("slots", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class SentimentResponse(BaseModel):
    """Sentiment analysis of the utterance, when the bot has it enabled."""

    model_config = _IN

    sentiment: str | None = None
    sentiment_score: dict[str, float] | None = None


class Interpretation(BaseModel):
    """One candidate intent; ``nluConfidence`` is a number, ``{"score": n}`` or absent."""

    model_config = _IN

    intent: LexIntent = Field(default_factory=LexIntent)
    nlu_confidence: float | None = None
    interpretation_source: str | None = None
    sentiment_response: SentimentResponse | None = None

    @field_validator("nlu_confidence", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        return value.get("score") if isinstance(value, dict) else value


class Bot(BaseModel):
    """The bot that sent the event."""

    model_config = _IN

    id: str
    name: str | None = None
    locale_id: str | None = None
    version: str | None = None
    alias_id: str | None = None
    alias_name: str | None = None


class LexDialogAction(BaseModel):
    """The dialog action in the inbound session state or in ``proposedNextState``."""

    model_config = _IN

    type: str | None = None
    slot_to_elicit: str | None = None
    slot_elicitation_style: str | None = None


class Prompt(BaseModel):
    """Which attempt of a prompt this is (``Initial``, ``Retry1``..``Retry5``)."""

    model_config = _IN

    attempt: str | None = None


class ProposedNextState(BaseModel):
    """What Lex would do next (dialog hook, ElicitSlot); every member optional (docs/lex-v2.md E6)."""

    model_config = _IN

    dialog_action: LexDialogAction | None = None
    intent: LexIntent | None = None
    prompt: Prompt | None = None


class LexSessionState(BaseModel):
    """The inbound session state. ``session_attributes`` is ``None`` when Lex sent none (docs/lex-v2.md E2)."""

    model_config = _IN

    active_contexts: list[dict[str, Any]] = Field(default_factory=list)
    session_attributes: dict[str, str] | None = None
    runtime_hints: dict[str, Any] | None = None
    dialog_action: LexDialogAction | None = None
    intent: LexIntent = Field(default_factory=LexIntent)
    originating_request_id: str | None = None

    @field_validator("active_contexts", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class Transcription(BaseModel):
    """One speech (or text) transcription candidate."""

    model_config = _IN

    transcription: str | None = None
    transcription_confidence: float | None = None
    resolved_context: dict[str, Any] | None = None
    resolved_slots: dict[str, LexSlot | None] = Field(default_factory=dict)

    @field_validator("transcription_confidence", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        return value.get("score") if isinstance(value, dict) else value

    @field_validator("resolved_slots", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class LexEvent(BaseModel):
    """A Lex V2 code-hook event, parsed leniently. Parsing never modifies the input dict."""

    model_config = _IN

    message_version: str | None = None
    invocation_source: str
    input_mode: str | None = None
    response_content_type: str | None = None
    session_id: str
    input_transcript: str = ""
    invocation_label: str | None = None
    bot: Bot
    interpretations: list[Interpretation] = Field(default_factory=list)
    proposed_next_state: ProposedNextState | None = None
    request_attributes: dict[str, str] | None = None
    session_state: LexSessionState
    transcriptions: list[Transcription] = Field(default_factory=list)

    @field_validator("interpretations", "transcriptions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("input_transcript", mode="before")
    @classmethod
    def _none_is_blank(cls, value: Any) -> Any:
        return "" if value is None else value

    @property
    def intent(self) -> LexIntent:
        """The current intent (``sessionState.intent``)."""
        return self.session_state.intent

    @property
    def is_dialog(self) -> bool:
        """True on a ``DialogCodeHook`` invocation, and on any unknown source (no fulfillment side effects)."""
        return not self.is_fulfillment

    @property
    def is_fulfillment(self) -> bool:
        """True on a ``FulfillmentCodeHook`` invocation."""
        return self.invocation_source == INVOCATION_FULFILLMENT


# ---------------------------------------------------------------------------------------------------
# Output: the response the code hook returns (strict)
# ---------------------------------------------------------------------------------------------------

_OUT = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="forbid")

MAX_MESSAGE_CHARS = 1024
"""Longest ``content`` of one Lex message (lexv2-runtime ``Text``: 1..1024)."""
MAX_MESSAGES = 10
"""Most messages in one response (lexv2-runtime ``Messages``: max 10)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE_CHARS)]
CardText = Annotated[str, StringConstraints(min_length=1, max_length=250)]
OptionalCardText = Annotated[str, StringConstraints(max_length=250)]
ButtonText = Annotated[str, StringConstraints(min_length=1, max_length=50)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
ContextName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^([A-Za-z0-9]_?)+$")]

IntentState = Literal["Failed", "Fulfilled", "InProgress", "ReadyForFulfillment", "Waiting", "FulfillmentInProgress"]
CloseState = Literal["Fulfilled", "Failed", "InProgress"]
ConfirmationState = Literal["Confirmed", "Denied", "None"]
ElicitationStyle = Literal["Default", "SpellByLetter", "SpellByWord"]


class Value(BaseModel):
    """A slot value in a response; ``interpretedValue`` is required (botocore ``Value``)."""

    model_config = _OUT

    interpreted_value: NonEmpty
    original_value: str | None = None
    resolved_values: list[str] | None = None


class Slot(BaseModel):
    """A slot in a response: Scalar (``value``), List (``values``) or Composite (``subSlots``)."""

    model_config = _OUT

    shape: Literal["Scalar", "List", "Composite"] | None = None
    value: Value | None = None
    values: list[Slot] | None = None
    sub_slots: dict[str, Slot | None] | None = None


class Intent(BaseModel):
    """The intent in a response; ``name`` is non-empty (docs/lex-v2.md R7)."""

    model_config = _OUT

    name: NonEmpty
    slots: dict[str, Slot | None] | None = None
    state: IntentState | None = None
    confirmation_state: ConfirmationState | None = None


class ElicitSubSlot(BaseModel):
    """Which sub-slot of a composite slot to elicit (nestable)."""

    model_config = _OUT

    name: NonEmpty
    sub_slot_to_elicit: ElicitSubSlot | None = None


class DialogAction(BaseModel):
    """The next action; ``slotElicitationStyle``/``subSlotToElicit`` only with ElicitSlot (docs/lex-v2.md R10)."""

    model_config = _OUT

    type: Literal["Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot"]
    slot_to_elicit: NonEmpty | None = None
    slot_elicitation_style: ElicitationStyle | None = None
    sub_slot_to_elicit: ElicitSubSlot | None = None

    @model_validator(mode="after")
    def _elicit_slot_only(self) -> DialogAction:
        if self.type == "ElicitSlot":
            if not self.slot_to_elicit:
                raise ValueError("ElicitSlot needs slotToElicit")
        elif self.slot_to_elicit or self.slot_elicitation_style or self.sub_slot_to_elicit:
            raise ValueError("slotToElicit, slotElicitationStyle and subSlotToElicit are only for ElicitSlot")
        return self


class TimeToLive(BaseModel):
    """How long an active context lives."""

    model_config = _OUT

    time_to_live_in_seconds: Annotated[int, Field(ge=5, le=86_400)]
    turns_to_live: Annotated[int, Field(ge=1, le=20)]


class ActiveContext(BaseModel):
    """An active context the handler chose to set (docs/lex-v2.md R8)."""

    model_config = _OUT

    name: ContextName
    time_to_live: TimeToLive
    context_attributes: Annotated[dict[str, Text], Field(max_length=10)]


class SessionState(BaseModel):
    """The session state in a response. ``session_attributes`` left out means "keep the stored map"."""

    model_config = _OUT

    dialog_action: DialogAction
    intent: Intent | None = None
    session_attributes: dict[NonEmpty, str] | None = None
    active_contexts: Annotated[list[ActiveContext], Field(max_length=20)] | None = None
    runtime_hints: dict[str, Any] | None = None
    originating_request_id: NonEmpty | None = None


class PlainTextMessage(BaseModel):
    """A plain-text message (1..1024 characters)."""

    model_config = _OUT

    content_type: Literal["PlainText"] = "PlainText"
    content: Text


class SSMLMessage(BaseModel):
    """An SSML message (1..1024 characters)."""

    model_config = _OUT

    content_type: Literal["SSML"] = "SSML"
    content: Text


class CustomPayloadMessage(BaseModel):
    """A custom payload the client interprets (1..1024 characters)."""

    model_config = _OUT

    content_type: Literal["CustomPayload"] = "CustomPayload"
    content: Text


class Button(BaseModel):
    """A response-card button; text and value 1..50 characters."""

    model_config = _OUT

    text: ButtonText
    value: ButtonText


class ImageResponseCard(BaseModel):
    """A response card: title 1..250, optional subtitle and image URL (<=250), up to 5 buttons."""

    model_config = _OUT

    title: CardText
    subtitle: OptionalCardText | None = None
    image_url: OptionalCardText | None = None
    buttons: Annotated[list[Button], Field(max_length=5)] | None = None


class ImageResponseCardMessage(BaseModel):
    """A message carrying a response card."""

    model_config = _OUT

    content_type: Literal["ImageResponseCard"] = "ImageResponseCard"
    image_response_card: ImageResponseCard
    content: Text | None = None


LexMessage = Annotated[
    PlainTextMessage | SSMLMessage | CustomPayloadMessage | ImageResponseCardMessage,
    Field(discriminator="content_type"),
]
"""One message of a Lex response (what the bot says); a session's stored history is ``chatstate.Message``."""


class LexResponse(BaseModel):
    """A complete code-hook response; validation enforces each dialog action's needs (docs/lex-v2.md R3, R4)."""

    model_config = _OUT

    session_state: SessionState
    messages: Annotated[list[LexMessage], Field(max_length=MAX_MESSAGES)] | None = None
    request_attributes: dict[str, str] | None = None

    @model_validator(mode="after")
    def _required_fields(self) -> LexResponse:
        action = self.session_state.dialog_action.type
        intent = self.session_state.intent
        if action == "ElicitIntent" and not self.messages:
            raise ValueError("ElicitIntent needs at least one message")
        if action == "ElicitSlot" and intent is None:
            raise ValueError("ElicitSlot needs the intent")
        if action == "ConfirmIntent" and (intent is None or intent.slots is None or not self.messages):
            raise ValueError("ConfirmIntent needs the intent with its slots and a message")
        if action == "Close" and (intent is None or intent.state not in ("Fulfilled", "Failed", "InProgress")):
            raise ValueError("Close needs the intent with state Fulfilled, Failed or InProgress")
        return self

    @property
    def dialog_action_type(self) -> str:
        """The dialog action's type (``Close``, ``Delegate``...)."""
        return self.session_state.dialog_action.type

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict Lex expects (aliases, optional members left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)
