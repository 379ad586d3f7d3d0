"""The bot definition of ``template.yaml`` (an ``AWS::Lex::Bot`` resource) as plain dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.template import TEMPLATE_PATH, Resolver, TemplateError, load_template, resource

BOT_ID = "ChatBot"
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"


@dataclass(frozen=True)
class SlotTypeValue:
    """One value of a custom slot type and its synonyms."""

    value: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlotType:
    """A custom slot type: its values and resolution strategy (``ORIGINAL_VALUE`` or ``TOP_RESOLUTION``)."""

    name: str
    values: tuple[SlotTypeValue, ...]
    strategy: str = "ORIGINAL_VALUE"


@dataclass(frozen=True)
class SlotDef:
    """A slot of an intent."""

    name: str
    type_name: str
    required: bool
    prompt: str | None
    max_retries: int = 2


@dataclass(frozen=True)
class IntentDef:
    """An intent: utterances, slots in priority order, prompts and code-hook switches."""

    name: str
    utterances: tuple[str, ...]
    slots: tuple[SlotDef, ...]
    dialog_hook: bool
    fulfillment_hook: bool
    confirmation_prompt: str | None = None
    declination_response: str | None = None
    closing_response: str | None = None
    parent_signature: str | None = None

    @property
    def is_fallback(self) -> bool:
        """Whether this is the bot's ``AMAZON.FallbackIntent``."""
        return self.parent_signature == FALLBACK_SIGNATURE

    def slot(self, name: str) -> SlotDef | None:
        """The slot called ``name``."""
        return next((s for s in self.slots if s.name == name), None)


@dataclass(frozen=True)
class BotDef:
    """One locale of a bot."""

    name: str
    locale_id: str
    intents: tuple[IntentDef, ...]
    slot_types: Mapping[str, SlotType] = field(default_factory=dict)
    nlu_threshold: float = 0.4

    @property
    def fallback(self) -> IntentDef | None:
        """The fallback intent, if the bot has one."""
        return next((i for i in self.intents if i.is_fallback), None)

    def intent(self, name: str) -> IntentDef:
        """The intent called ``name`` (``KeyError`` if none)."""
        for intent in self.intents:
            if intent.name == name:
                return intent
        raise KeyError(name)


def _message(spec: Mapping[str, Any] | None) -> str | None:
    """The first plain-text (or SSML) message of a ``MessageGroupsList`` holder."""
    groups = (spec or {}).get("MessageGroupsList") or []
    for group in groups:
        message = group.get("Message") or {}
        for kind in ("PlainTextMessage", "SSMLMessage"):
            if kind in message:
                return str(message[kind]["Value"])
    return None


def _slot(spec: Mapping[str, Any]) -> SlotDef:
    setting = spec.get("ValueElicitationSetting") or {}
    prompt = setting.get("PromptSpecification") or {}
    return SlotDef(
        name=str(spec["Name"]),
        type_name=str(spec["SlotTypeName"]),
        required=setting.get("SlotConstraint", "Optional") == "Required",
        prompt=_message(prompt),
        max_retries=int(prompt.get("MaxRetries", 2)),
    )


def _intent(spec: Mapping[str, Any]) -> IntentDef:
    slots = {s["Name"]: _slot(s) for s in spec.get("Slots") or []}
    order = [p["SlotName"] for p in sorted(spec.get("SlotPriorities") or [], key=lambda p: int(p["Priority"]))]
    ordered = [slots[n] for n in order if n in slots] + [s for n, s in slots.items() if n not in order]
    confirmation = spec.get("IntentConfirmationSetting") or {}
    closing = (spec.get("IntentClosingSetting") or {}).get("ClosingResponse")
    return IntentDef(
        name=str(spec["Name"]),
        utterances=tuple(str(u["Utterance"]) for u in spec.get("SampleUtterances") or []),
        slots=tuple(ordered),
        dialog_hook=bool((spec.get("DialogCodeHook") or {}).get("Enabled")),
        fulfillment_hook=bool((spec.get("FulfillmentCodeHook") or {}).get("Enabled")),
        confirmation_prompt=_message(confirmation.get("PromptSpecification")),
        declination_response=_message(confirmation.get("DeclinationResponse")),
        closing_response=_message(closing),
        parent_signature=spec.get("ParentIntentSignature"),
    )


def _slot_type(spec: Mapping[str, Any]) -> SlotType:
    values = tuple(
        SlotTypeValue(str(v["SampleValue"]["Value"]), tuple(str(s["Value"]) for s in v.get("Synonyms") or []))
        for v in spec.get("SlotTypeValues") or []
    )
    strategy = (spec.get("ValueSelectionSetting") or {}).get("ResolutionStrategy", "ORIGINAL_VALUE")
    return SlotType(str(spec["Name"]), values, str(strategy))


def load_bot(
    template_path: Path | str = TEMPLATE_PATH, *, logical_id: str = BOT_ID, locale_id: str = "en_US"
) -> BotDef:
    """The ``logical_id`` bot's ``locale_id`` locale, read from the template (intrinsics resolved locally)."""
    template = load_template(template_path)
    bot = resource(template, logical_id)
    if bot.get("Type") != "AWS::Lex::Bot":
        raise TemplateError(f"{logical_id} is {bot.get('Type')}, expected AWS::Lex::Bot")
    resolver = Resolver(template)
    properties = bot.get("Properties") or {}
    locales = resolver.resolve(properties.get("BotLocales") or [])
    locale = next((loc for loc in locales if loc.get("LocaleId") == locale_id), None)
    if locale is None:
        raise TemplateError(f"{logical_id} has no {locale_id} locale")
    return BotDef(
        name=str(resolver.resolve(properties.get("Name", logical_id))),
        locale_id=locale_id,
        intents=tuple(_intent(i) for i in locale.get("Intents") or []),
        slot_types={t["Name"]: _slot_type(t) for t in locale.get("SlotTypes") or []},
        nlu_threshold=float(locale.get("NluConfidenceThreshold", 0.4)),
    )
