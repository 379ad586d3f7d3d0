"""Amazon Lex V2 code hooks: lenient event models, strict responses, dialog helpers, a router and a runtime.

Names are imported on first use (``chatstate._exports``), so ``import chatstate.lex`` costs nothing until a
name is touched::

    from chatstate.lex import IntentRouter, LexRuntime, close, plain_text
"""

from __future__ import annotations

from chatstate._exports import lazy_exports

TYPE_CHECKING = False  # type checkers read the block below; at run time it names the exports (chatstate._exports)
if TYPE_CHECKING:
    from chatstate.lex.dialog import close as close
    from chatstate.lex.dialog import confirm_intent as confirm_intent
    from chatstate.lex.dialog import custom_payload as custom_payload
    from chatstate.lex.dialog import delegate as delegate
    from chatstate.lex.dialog import elicit_intent as elicit_intent
    from chatstate.lex.dialog import elicit_slot as elicit_slot
    from chatstate.lex.dialog import get_slot as get_slot
    from chatstate.lex.dialog import get_slot_values as get_slot_values
    from chatstate.lex.dialog import get_sub_slot as get_sub_slot
    from chatstate.lex.dialog import image_card as image_card
    from chatstate.lex.dialog import plain_text as plain_text
    from chatstate.lex.dialog import set_composite_slot as set_composite_slot
    from chatstate.lex.dialog import set_list_slot as set_list_slot
    from chatstate.lex.dialog import set_slot as set_slot
    from chatstate.lex.dialog import ssml as ssml
    from chatstate.lex.dialog import to_response_intent as to_response_intent
    from chatstate.lex.models import ActiveContext as ActiveContext
    from chatstate.lex.models import Button as Button
    from chatstate.lex.models import CustomPayloadMessage as CustomPayloadMessage
    from chatstate.lex.models import ImageResponseCard as ImageResponseCard
    from chatstate.lex.models import ImageResponseCardMessage as ImageResponseCardMessage
    from chatstate.lex.models import Intent as Intent
    from chatstate.lex.models import LexEvent as LexEvent
    from chatstate.lex.models import LexIntent as LexIntent
    from chatstate.lex.models import LexMessage as LexMessage
    from chatstate.lex.models import LexResponse as LexResponse
    from chatstate.lex.models import LexSlot as LexSlot
    from chatstate.lex.models import PlainTextMessage as PlainTextMessage
    from chatstate.lex.models import Slot as Slot
    from chatstate.lex.models import SSMLMessage as SSMLMessage
    from chatstate.lex.models import Value as Value
    from chatstate.lex.router import IntentRouter as IntentRouter
    from chatstate.lex.router import LexRequest as LexRequest
    from chatstate.lex.router import TurnContext as TurnContext
    from chatstate.lex.runtime import LexRuntime as LexRuntime

__getattr__, __dir__ = lazy_exports(__name__, __file__)
