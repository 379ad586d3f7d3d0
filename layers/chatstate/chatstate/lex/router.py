"""An explicit intent registry: ``{intent name: handler}`` for the dialog and the fulfillment code hooks.

Example::

    router = IntentRouter[BotAttributes]()

    @router.fulfillment("Greeting")
    def greet(ctx: TurnContext[BotAttributes]) -> LexResponse:
        return ctx.close("Fulfilled", f"Hello {ctx.attributes.name}!")

An intent without a handler gets ``Delegate`` on a dialog hook and ``Close``/``Failed`` with a polite
message on fulfillment.

With ``agent_fallback=True`` the fallback intent's turns go to the runtime's responder (an agent
turn, ``chatstate.lex.agent``); the handler registered for the fallback intent, if any, is the
polite reprompt used when the agent cannot answer.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatstate.attributes import SessionAttributes
from chatstate.lex import dialog
from chatstate.lex.models import (
    CloseState,
    ElicitationStyle,
    Intent,
    LexEvent,
    LexIntent,
    LexResponse,
)
from chatstate.models import Message, Session, utc_now

if typing.TYPE_CHECKING:
    from chatstate.chat.responders import Responder

Handler = Callable[["TurnContext[Any]"], LexResponse]
"""An intent handler: takes the turn's context, returns a response."""

FALLBACK_INTENT = "FallbackIntent"
"""The usual name of the intent built on ``AMAZON.FallbackIntent``."""
UNKNOWN_INTENT_MESSAGE = "Sorry, I can't help with that request yet. Is there something else I can do for you?"


@dataclass(frozen=True)
class LexRequest[A: SessionAttributes]:
    """The parsed event with its decoded typed attributes.

    Attributes:
        event: The event (lenient model; the caller's dict is untouched).
        attributes: The bot's typed attributes for this turn (a fresh instance; handlers may change it).
        extras: Inbound session-attribute keys the model does not declare (echoed back verbatim).
        rejected: Attribute fields whose inbound/durable value failed to decode (field -> reason).
        ignored: Server-only fields the client tried to set (dropped).
    """

    event: LexEvent
    attributes: A
    extras: Mapping[str, str] = field(default_factory=dict)
    rejected: Mapping[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


@dataclass
class TurnContext[A: SessionAttributes]:
    """What an intent handler receives: the request, typed attributes, the durable session and helpers.

    Attributes:
        request: The parsed request.
        session: The durable session as loaded at the start of the turn (``None`` on the first turn).
        now: The clock (injectable for tests).
        history: The session's most recent messages, oldest first (loaded for agent turns only).
        responder: The agent's responder, when the runtime has one.
    """

    request: LexRequest[A]
    session: Session | None = None
    now: Callable[[], datetime] = utc_now
    history: Sequence[Message] = ()
    responder: Responder | None = None

    @property
    def event(self) -> LexEvent:
        """The parsed event."""
        return self.request.event

    @property
    def attributes(self) -> A:
        """The typed session attributes; changes are returned to Lex and saved durably."""
        return self.request.attributes

    @property
    def intent(self) -> LexIntent:
        """The current intent (``sessionState.intent``)."""
        return self.request.event.session_state.intent

    @property
    def intent_name(self) -> str:
        """The current intent's name."""
        return self.intent.name

    def slot(self, name: str) -> str | None:
        """The interpreted value of a slot of the current intent, or ``None`` when unfilled."""
        return dialog.get_slot(self.intent, name)

    def slot_values(self, name: str) -> list[str]:
        """The interpreted values of a List slot (``[]`` when unfilled)."""
        return dialog.get_slot_values(self.intent, name)

    def sub_slot(self, name: str, sub_slot: str) -> str | None:
        """The interpreted value of a sub-slot of a Composite slot."""
        return dialog.get_sub_slot(self.intent, name, sub_slot)

    # -- response shortcuts on the current intent ---------------------------------------------------
    def close(self, state: CloseState, *messages: dialog.MessageLike, intent: Intent | None = None) -> LexResponse:
        """``Close`` the current intent (or ``intent``) with ``state``."""
        return dialog.close(intent or self.intent, state, *messages)

    def elicit_slot(
        self,
        slot: str,
        *messages: dialog.MessageLike,
        intent: Intent | None = None,
        style: ElicitationStyle | None = None,
        sub_slot: str | Sequence[str] | None = None,
    ) -> LexResponse:
        """``ElicitSlot`` on the current intent (or ``intent``, e.g. with a slot cleared)."""
        return dialog.elicit_slot(intent or self.intent, slot, *messages, style=style, sub_slot=sub_slot)

    def delegate(self, intent: Intent | None = None) -> LexResponse:
        """``Delegate`` with the current intent (or ``intent``)."""
        return dialog.delegate(intent or self.intent)

    def elicit_intent(self, message: dialog.MessageLike, *more: dialog.MessageLike) -> LexResponse:
        """``ElicitIntent`` with at least one message."""
        return dialog.elicit_intent(message, *more)

    def confirm_intent(
        self, message: dialog.MessageLike, *more: dialog.MessageLike, intent: Intent | None = None
    ) -> LexResponse:
        """``ConfirmIntent`` on the current intent (or ``intent``) with a yes/no prompt."""
        return dialog.confirm_intent(intent or self.intent, message, *more)


class IntentRouter[A: SessionAttributes]:
    """An explicit registry of intent handlers, generic over the bot's ``SessionAttributes`` subclass.

    ``IntentRouter[BotAttributes]()`` or ``IntentRouter(BotAttributes)``; handlers are registered with
    the ``dialog``/``fulfillment`` decorators or passed as mappings. ``agent_fallback=True`` makes
    ``fallback_intent`` an agent turn (see the module docstring).
    """

    def __init__(
        self,
        attributes: type[A] | None = None,
        *,
        dialog: Mapping[str, Handler] | None = None,
        fulfillment: Mapping[str, Handler] | None = None,
        unknown_intent_message: str = UNKNOWN_INTENT_MESSAGE,
        agent_fallback: bool = False,
        fallback_intent: str = FALLBACK_INTENT,
    ) -> None:
        self._attributes = attributes
        self._dialog: dict[str, Handler] = dict(dialog or {})
        self._fulfillment: dict[str, Handler] = dict(fulfillment or {})
        self.unknown_intent_message = unknown_intent_message
        self.agent_fallback = agent_fallback
        self.fallback_intent = fallback_intent

    @property
    def attributes_type(self) -> type[A]:
        """The bot's attributes class: explicit, else from ``IntentRouter[X]()``, else ``SessionAttributes``."""
        if self._attributes is None:
            orig = getattr(self, "__orig_class__", None)
            args = typing.get_args(orig) if orig is not None else ()
            chosen = args[0] if args and isinstance(args[0], type) else SessionAttributes
            self._attributes = typing.cast(type[A], chosen)
        return self._attributes

    def dialog(self, *intents: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the dialog-code-hook handler of ``intents``."""
        return self._register(self._dialog, intents)

    def fulfillment(self, *intents: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the fulfillment-code-hook handler of ``intents``."""
        return self._register(self._fulfillment, intents)

    @staticmethod
    def _register(table: dict[str, Handler], intents: tuple[str, ...]) -> Callable[[Handler], Handler]:
        if not intents or not all(intents):
            raise ValueError("name at least one intent")

        def decorator(handler: Handler) -> Handler:
            for name in intents:
                if name in table:
                    raise ValueError(f"intent {name!r} already has a handler")
                table[name] = handler
            return handler

        return decorator

    def handler_for(self, event: LexEvent) -> Handler | None:
        """The handler registered for the event's intent and invocation source, if any."""
        table = self._dialog if event.is_dialog else self._fulfillment
        return table.get(event.session_state.intent.name)

    def wants_agent(self, event: LexEvent) -> bool:
        """Whether this turn is an agent turn (the switch is on and the intent is the fallback intent)."""
        return self.agent_fallback and event.session_state.intent.name == self.fallback_intent

    def dispatch(self, ctx: TurnContext[A]) -> LexResponse:
        """Run the handler registered for the turn, or the default (the runtime runs the agent of fallback turns)."""
        handler = self.handler_for(ctx.event)
        if handler is not None:
            response = handler(ctx)
            if not isinstance(response, LexResponse):
                raise TypeError(f"handler for {ctx.intent_name!r} returned {type(response).__name__}, not LexResponse")
            return response
        if ctx.event.is_dialog:
            return dialog.delegate(ctx.intent) if ctx.intent_name else dialog.delegate()
        if not ctx.intent_name:
            return dialog.elicit_intent(self.unknown_intent_message)
        return dialog.close(ctx.intent, "Failed", self.unknown_intent_message)
