"""Responders produce the assistant's reply; the built-in one needs no model.

A responder gets the session as loaded before this turn (``None`` for a brand-new or expired one),
the most recent messages (oldest first) and the user's new message. It must not write to the store:
the chat service appends both messages atomically after the reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from chatstate.chat.errors import ResponderFailed, ResponderUnavailable
from chatstate.models import Message, Session

if TYPE_CHECKING:
    from chatstate.settings import Settings

__all__ = [
    "EchoMemoryResponder",
    "Responder",
    "ResponderFailed",
    "ResponderUnavailable",
    "responder_from_settings",
]

_NAME_PATTERN = re.compile(r"\bmy name is\s+([A-Za-z][\w'\-]{0,40})", re.IGNORECASE)
_QUOTE_LIMIT = 80
_STATE_ITEMS = 6
_NAME_KEYS = ("name", "user_name")


@runtime_checkable
class Responder(Protocol):
    """Anything that turns (session, recent history, new message) into a reply."""

    def reply(self, session: Session | None, history: Sequence[Message], message: str) -> str:
        """The assistant's reply to ``message``.

        Args:
            session: The session before this turn, or ``None`` if it is new (or had expired).
            history: The most recent messages, oldest first (may be empty).
            message: The user's new message.

        Raises:
            ResponderUnavailable: A transient failure (throttled, not ready); maps to 503.
            ResponderFailed: A permanent failure; maps to 502.
        """
        ...


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _QUOTE_LIMIT else flat[: _QUOTE_LIMIT - 1] + "…"


def _words(key: str) -> str:
    """``last_booking``/``lastBooking`` → ``last booking``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").lower()


def _describe_value(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_words(str(k))} {_describe_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    return str(value)


def _describe_state(state: Mapping[str, object], *, limit: int = _STATE_ITEMS) -> str:
    """A short, deterministic description of the session state (the name is said separately)."""
    entries = [
        f"{_words(key)}: {_quote(_describe_value(value))}"
        for key, value in sorted(state.items())
        if key not in _NAME_KEYS and value not in (None, "", [], {})
    ]
    return "; ".join(entries[:limit])


class EchoMemoryResponder:
    """Deterministic built-in responder that shows the session works: turn number, memory, counts.

    It remembers a name from the session state (``name`` or ``user_name``) or from an earlier
    "my name is ..." in the recent history, quotes the previous user message, and says what else the
    session state holds (a Lex bot's typed attributes: language, last booking, ...).
    """

    def reply(self, session: Session | None, history: Sequence[Message], message: str) -> str:
        """A reply built only from the session, the history and the message (no model, no I/O)."""
        turn = (session.message_count if session else 0) + 1
        parts = [f"Turn {turn}." if turn > 1 else "Turn 1: this is a new session."]
        name = self._name(session, history, message)
        if name:
            parts.append(f"I remember your name is {name}.")
        previous = next((m for m in reversed(history) if m.role == "user"), None)
        if previous is not None:
            parts.append(f'Last time you said: "{_quote(previous.effective_content)}".')
        parts.append(f'You said: "{_quote(message)}".')
        earlier = session.event_count if session else 0
        if earlier:
            parts.append(f"We have exchanged {earlier} message{'s' if earlier != 1 else ''} so far.")
        known = _describe_state(session.state) if session else ""
        if known:
            parts.append(f"I also know: {known}.")
        return " ".join(parts)

    @staticmethod
    def _name(session: Session | None, history: Sequence[Message], message: str) -> str | None:
        if session is not None:
            for key in _NAME_KEYS:
                value = session.state.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
        for text in [message, *(m.effective_content for m in reversed(history) if m.role == "user")]:
            match = _NAME_PATTERN.search(text)
            if match:
                return match.group(1)
        return None


def responder_from_settings(settings: Settings) -> Responder:
    """The responder the settings ask for: Bedrock Converse when a model id is set, else the built-in one.

    The Bedrock module (and boto3's bedrock-runtime client) is only imported/created when needed.
    """
    if settings.bedrock_model_id:
        from chatstate.chat.bedrock import BedrockConverseResponder

        return BedrockConverseResponder(
            settings.bedrock_model_id,
            system_prompt=settings.system_prompt,
            max_turns=settings.history_turns,
        )
    return EchoMemoryResponder()
