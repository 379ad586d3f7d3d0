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

_NAME_INTRO = re.compile(r"\b(?:my name is|call me)\s+([A-Za-z][\w'\-]{0,40})", re.IGNORECASE)
_ASKS_NAME = re.compile(r"\b(what(?:'s| is) my name|who am i|do you know my name)\b", re.IGNORECASE)
_ASKS_SAID = re.compile(
    r"\bwhat (?:did|have) i (?:just )?(?:say|said|tell you|told you|write|written|ask|asked)\b|\bmy last message\b",
    re.IGNORECASE,
)
_ASKS_COUNT = re.compile(r"\bhow many messages\b", re.IGNORECASE)
_ASKS_KNOWN = re.compile(r"\bwhat do you (?:know|remember)\b", re.IGNORECASE)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.IGNORECASE)
_QUOTE_LIMIT = 80
_STATE_ITEMS = 6
_NAME_KEYS = ("name", "user_name")
_LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian"}
_BOOKING_KEYS = ("last_booking", "lastBooking")


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


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _booking(state: Mapping[str, object]) -> str | None:
    """``Seattle → Boston on 2026-12-24`` from a Lex bot's last booking in the state, if it holds one."""
    booking = next((state[k] for k in _BOOKING_KEYS if isinstance(state.get(k), Mapping)), None)
    if not isinstance(booking, Mapping):
        return None
    pick = {_words(str(k)).replace(" ", ""): v for k, v in booking.items()}
    start, end, when = pick.get("departurecity"), pick.get("arrivalcity"), pick.get("departuredate")
    if not start or not end:
        return None
    return f"{start} → {end}" + (f" on {when}" if when else "")


class EchoMemoryResponder:
    """Deterministic built-in responder: a helpful assistant without a model that knows the session.

    It answers what the session can answer: the user's name (from the state's ``name``/``user_name`` or an earlier
    "my name is ..."), what they said last, how many messages they have sent (``Session.message_count``: the
    user's messages, this one included, as the API's ``message_count``), what the state holds (a Lex bot's language
    and last booking); anything else gets a short note that no model is configured, quoting the message.
    """

    def reply(self, session: Session | None, history: Sequence[Message], message: str) -> str:
        """A reply built only from the session, the history and the message (no model, no I/O)."""
        count = (session.message_count if session else 0) + 1  # the user's messages, this one included
        state: Mapping[str, object] = session.state if session else {}
        name = self._name(state, history, message)
        previous = next((m for m in reversed(history) if m.role == "user"), None)
        introduced = _NAME_INTRO.search(message)
        if introduced:
            return f"Nice to meet you, {introduced.group(1)}! I'll remember your name in this conversation."
        if _ASKS_NAME.search(message):
            if name:
                return f"You're {name}."
            return "You haven't told me your name yet: say \"my name is …\" and I'll remember it."
        if _ASKS_SAID.search(message):
            if previous is None:
                return "Nothing yet: this is your first message in this conversation."
            return f'You said: "{_quote(previous.effective_content)}"'
        if _ASKS_COUNT.search(message):
            return f"You have sent {_plural(count, 'message')} in this conversation, this one included."
        if _ASKS_KNOWN.search(message):
            return self._known(state, name, count)
        hello = f", {name}" if name else ""
        if _GREETING.search(message):
            opening = f"Hello{hello}! " + (
                "This is a new conversation." if count == 1 else f"This is your {_ordinal(count)} message here."
            )
        else:
            opening = (
                f"I'm the built-in responder (no model is configured), so I can't answer \"{_quote(message)}\""
                f" myself{hello}."
            )
        return " ".join([opening, *self._context(state), self._suggestion(name)])

    @staticmethod
    def _known(state: Mapping[str, object], name: str | None, count: int) -> str:
        facts = [f"your name is {name}"] if name else []
        language = state.get("language")
        if isinstance(language, str) and language in _LANGUAGES:
            facts.append(f"you prefer {_LANGUAGES[language]}")
        booking = _booking(state)
        if booking:
            facts.append(f"your last booking is {booking}")
        facts.append(f"you have sent {_plural(count, 'message')} here")
        said = ", ".join(facts[:-1]) + f" and {facts[-1]}" if len(facts) > 1 else facts[0]
        shown = {*_NAME_KEYS, "language", *_BOOKING_KEYS}
        others = sorted(_words(k) for k, v in state.items() if k not in shown and v not in (None, "", [], {}))
        more = f" The session also holds: {', '.join(others[:_STATE_ITEMS])}." if others else ""
        return f"I know that {said}.{more}"

    @staticmethod
    def _context(state: Mapping[str, object]) -> list[str]:
        said = []
        language = state.get("language")
        if isinstance(language, str) and language in _LANGUAGES and language != "en":
            said.append(f"I know you prefer {_LANGUAGES[language]}.")
        booking = _booking(state)
        if booking:
            said.append(f"Your last booking: {booking}.")
        return said

    @staticmethod
    def _suggestion(name: str | None) -> str:
        asks = ['"how many messages have I sent?"', '"what did I say?"']
        asks.insert(0, '"what\'s my name?"' if name else '"my name is …"')
        return f"Try {', '.join(asks[:-1])} or {asks[-1]}."

    @staticmethod
    def _name(state: Mapping[str, object], history: Sequence[Message], message: str) -> str | None:
        for key in _NAME_KEYS:
            value = state.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        for text in [message, *(m.effective_content for m in reversed(history) if m.role == "user")]:
            match = _NAME_INTRO.search(text)
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
