"""Amazon Lex V2 code hooks: lenient event models, strict responses, dialog helpers, a router and a runtime.

Names are imported on first use (PEP 562), so ``import chatstate.lex`` costs nothing until a name is
touched::

    from chatstate.lex import IntentRouter, LexRuntime, close, plain_text
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # models
    "LexEvent": "models",
    "LexIntent": "models",
    "LexSlot": "models",
    "LexResponse": "models",
    "Intent": "models",
    "Slot": "models",
    "Value": "models",
    "PlainTextMessage": "models",
    "SSMLMessage": "models",
    "CustomPayloadMessage": "models",
    "ImageResponseCardMessage": "models",
    "ImageResponseCard": "models",
    "Button": "models",
    "ActiveContext": "models",
    # dialog helpers
    "close": "dialog",
    "elicit_slot": "dialog",
    "elicit_intent": "dialog",
    "delegate": "dialog",
    "confirm_intent": "dialog",
    "plain_text": "dialog",
    "ssml": "dialog",
    "custom_payload": "dialog",
    "image_card": "dialog",
    "get_slot": "dialog",
    "get_slot_values": "dialog",
    "get_sub_slot": "dialog",
    "set_slot": "dialog",
    "set_list_slot": "dialog",
    "set_composite_slot": "dialog",
    "to_response_intent": "dialog",
    # router and runtime
    "IntentRouter": "router",
    "TurnContext": "router",
    "LexRequest": "router",
    "LexRuntime": "runtime",
}

__all__ = [
    "ActiveContext",
    "Button",
    "CustomPayloadMessage",
    "ImageResponseCard",
    "ImageResponseCardMessage",
    "Intent",
    "IntentRouter",
    "LexEvent",
    "LexIntent",
    "LexRequest",
    "LexResponse",
    "LexRuntime",
    "LexSlot",
    "PlainTextMessage",
    "SSMLMessage",
    "Slot",
    "TurnContext",
    "Value",
    "close",
    "confirm_intent",
    "custom_payload",
    "delegate",
    "elicit_intent",
    "elicit_slot",
    "get_slot",
    "get_slot_values",
    "get_sub_slot",
    "image_card",
    "plain_text",
    "set_composite_slot",
    "set_list_slot",
    "set_slot",
    "ssml",
    "to_response_intent",
]

if TYPE_CHECKING:  # pragma: no cover
    from chatstate.lex.dialog import (
        close,
        confirm_intent,
        custom_payload,
        delegate,
        elicit_intent,
        elicit_slot,
        get_slot,
        get_slot_values,
        get_sub_slot,
        image_card,
        plain_text,
        set_composite_slot,
        set_list_slot,
        set_slot,
        ssml,
        to_response_intent,
    )
    from chatstate.lex.models import (
        ActiveContext,
        Button,
        CustomPayloadMessage,
        ImageResponseCard,
        ImageResponseCardMessage,
        Intent,
        LexEvent,
        LexIntent,
        LexResponse,
        LexSlot,
        PlainTextMessage,
        Slot,
        SSMLMessage,
        Value,
    )
    from chatstate.lex.router import IntentRouter, LexRequest, TurnContext
    from chatstate.lex.runtime import LexRuntime


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chatstate.lex' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"chatstate.lex.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
