"""The agent turn of a Lex bot: what the bot's intents don't answer, the chat responder does.

When the router's agent switch is on, a ``FallbackIntent`` turn goes to a ``Responder`` (the same
interface the chat function uses: built-in by default, Bedrock Converse when configured) with the
Lex session's durable transcript (last k turns) and the bot's typed attributes as context. The answer
is an ``ElicitIntent`` (the next utterance can still match an intent) whose text fits Lex's message
limits. The typed state is untouched unless the responder answers with an ``AgentReply`` whose
``state`` names fields to change (each is validated; server-only fields cannot be changed).

A responder failure, a responder that outlives the invocation's budget, an empty utterance or an
unusable answer gives the bot's polite reprompt instead, never an invalid response.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chatstate import deadline
from chatstate.attributes import SessionAttributes, secret_fields, server_only_fields
from chatstate.exceptions import ChatSessionError
from chatstate.lex import dialog
from chatstate.lex.models import LexResponse
from chatstate.logsafe import error_fields
from chatstate.models import Message, Session, SessionRef

if TYPE_CHECKING:
    from chatstate.chat.responders import Responder
    from chatstate.lex.router import TurnContext

logger = logging.getLogger("chatstate.lex.agent")

AGENT_MAX_MESSAGES = 3
"""How many Lex messages (of the 10 Lex allows) an agent answer may take; a voice user hears them all."""
MIN_REPLY_SECONDS = 0.5
"""An agent call is not started with less than this much of the invocation's budget left."""

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="chatstate-agent")
"""Runs the responder so its wait is bounded by the deadline (one pool per execution environment)."""


@dataclass(frozen=True)
class AgentReply:
    """A structured responder answer: the text, plus typed attribute changes it asks for.

    Attributes:
        text: What the user reads or hears.
        state: ``{field name or Lex key: value}`` to set on the bot's typed attributes (validated per field).
    """

    text: str
    state: Mapping[str, Any] = field(default_factory=dict)


def context_session(ctx: TurnContext[Any]) -> Session:
    """The session the responder sees: the durable one (or a fresh one), the turn's typed attributes as its state.

    Secret server-only fields and empty values are left out, so a model never sees them.
    """
    attributes = ctx.attributes
    secret = secret_fields(type(attributes))
    state = {k: v for k, v in attributes.to_state().items() if k not in secret and v not in (None, "", [], {})}
    if ctx.session is not None:
        return ctx.session.model_copy(update={"state": state})
    ref = SessionRef.lex(ctx.event.bot.id, ctx.event.session_id)
    now = ctx.now()
    return Session(
        session_id=ref.session_id,
        actor_id=ref.actor_id,
        channel=ref.channel,
        created_at=now,
        updated_at=now,
        expires_at=now,
        state=state,
    )


def agent_turn(
    ctx: TurnContext[Any],
    responder: Responder,
    history: Sequence[Message],
    reprompt: Callable[[], LexResponse],
) -> LexResponse:
    """Answer the turn's utterance with the responder, or ``reprompt()`` when it cannot."""
    utterance = (ctx.event.input_transcript or "").strip()
    if not utterance:
        return reprompt()
    session = context_session(ctx)
    try:
        answer = _bounded_reply(responder, session, history, utterance)
    except ChatSessionError as exc:  # ResponderFailed/Unavailable, DeadlineExceeded
        logger.warning("agent reply failed; reprompting", extra={"error_type": type(exc).__name__})
        return reprompt()
    except Exception as exc:  # a responder bug must not cost the user a valid answer
        logger.error("agent responder raised", extra=error_fields(exc))  # no message text: it may quote the user
        return reprompt()
    text, changes = (answer.text, answer.state) if isinstance(answer, AgentReply) else (answer, {})
    chunks = dialog.fit_text([text], room=AGENT_MAX_MESSAGES) if isinstance(text, str) else []
    if not chunks:
        return reprompt()
    if changes:
        apply_changes(ctx.attributes, changes)
    return dialog.elicit_intent(*chunks)


def _bounded_reply(responder: Responder, session: Session, history: Sequence[Message], utterance: str) -> Any:
    """The responder's answer, waiting no longer than the invocation's budget allows."""
    deadline.check("agent reply", needs=MIN_REPLY_SECONDS)
    budget = deadline.remaining_seconds()
    if budget is None:
        return responder.reply(session, history, utterance)
    context = contextvars.copy_context()  # the responder sees the same deadline
    future = _executor.submit(context.run, responder.reply, session, history, utterance)
    try:
        return future.result(timeout=max(0.0, budget - 0.05))
    except FutureTimeout:
        future.cancel()
        raise deadline.DeadlineExceeded("agent reply") from None


def apply_changes(attributes: SessionAttributes, changes: Mapping[str, Any]) -> list[str]:
    """Set each named field that validates; server-only and unknown fields are skipped. Returns those set."""
    model = type(attributes)
    by_key = {(info.alias or name): name for name, info in model.model_fields.items()}
    server_only = server_only_fields(model)
    applied = []
    for key, value in changes.items():
        name = key if key in model.model_fields else by_key.get(key)
        if name is None or name in server_only:
            logger.warning("agent asked to change an unknown or server-only attribute", extra={"field": key})
            continue
        try:
            setattr(attributes, name, value)
        except ValidationError:
            logger.warning("agent attribute change rejected", extra={"field": name})
            continue
        applied.append(name)
    return applied


__all__ = ["AGENT_MAX_MESSAGES", "AgentReply", "agent_turn", "apply_changes", "context_session"]
