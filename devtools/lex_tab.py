"""The server side of the local page's Lex tab: the Lex V2 runtime simulator behind two local JSON endpoints.

* ``POST /_local/lex/turn`` ``{"sessionId", "text", "sessionAttributes"?, "requestAttributes"?}``: one
  ``RecognizeText`` turn; answers the turn as :meth:`devtools.lex_console.LexConsole.turn` does (``dialogAction``,
  ``intent``, ``sessionAttributes``, ``messages``, ``problems``, ...). ``sessionAttributes`` are set before the
  turn, as a client's ``sessionState`` would; ``requestAttributes`` go with this turn only.
* ``POST /_local/lex/reset`` ``{"sessionId"}``: forget the session (Lex's ``DeleteSession``).

Requests are checked as Lex checks ``RecognizeText`` (``sessionId`` 2..100 of ``[0-9a-zA-Z._:-]``, ``text``
1..1024 characters, string-to-string attribute maps); a bad one is a 400 JSON error. The simulator's state lives
here, keyed by session id; turns of one session are played one at a time, different sessions independently
(the function itself is serialised like one Lambda execution environment). At most :data:`MAX_SESSIONS`
sessions are kept; the least recently used is forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from pydantic.alias_generators import to_camel

from devtools.lex_console import LexConsole
from devtools.server import LocalApp, Request

MAX_TEXT_CHARS = 1024
"""Longest utterance ``RecognizeText`` accepts (lexv2-runtime ``Text``: 1..1024)."""
MAX_SESSIONS = 200
"""Sessions the local server remembers before it forgets the least recently used one."""

SessionId = Annotated[StrictStr, Field(min_length=2, max_length=100, pattern=r"^[0-9a-zA-Z._:-]+$")]
AttributeMap = dict[Annotated[StrictStr, Field(min_length=1)], StrictStr]


class _Strict(BaseModel):
    """A request body in Lex's camelCase, nothing else accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class TurnRequest(_Strict):
    """``POST /_local/lex/turn``: what ``RecognizeText`` takes, minus the bot, alias and locale."""

    session_id: SessionId
    text: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    session_attributes: AttributeMap | None = None
    request_attributes: AttributeMap | None = None


class ResetRequest(_Strict):
    """``POST /_local/lex/reset``: Lex's ``DeleteSession``."""

    session_id: SessionId


def _bad_request(message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": {"code": "bad_request", "message": message}}


def _parse[M: _Strict](model: type[M], request: Request) -> M | tuple[int, dict[str, Any]]:
    """The request body as ``model``, or the 400 answer saying what is wrong (never the values sent)."""
    try:
        body = request.json()
    except ValueError:
        return _bad_request("the body is not valid JSON")
    if not isinstance(body, dict):
        return _bad_request("the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "string_too_long" and first["loc"] == ("text",):
            return _bad_request(f"text: at most {MAX_TEXT_CHARS} characters (Lex V2 RecognizeText)")
        return _bad_request(f"{where}: {first['msg']}")


class LexTab:
    """The Lex tab's endpoints around one :class:`LexConsole` (see the module docstring)."""

    def __init__(self, console: LexConsole, *, max_sessions: int = MAX_SESSIONS) -> None:
        self.console = console
        self.max_sessions = max_sessions
        self._guard = threading.Lock()
        self._sessions: OrderedDict[str, threading.Lock] = OrderedDict()

    def register(self, app: LocalApp) -> None:
        """Add ``POST /_local/lex/turn`` and ``POST /_local/lex/reset`` to ``app``."""
        app.add_endpoint("POST", "lex/turn", self.turn)
        app.add_endpoint("POST", "lex/reset", self.reset)

    def info(self) -> dict[str, Any]:
        """The bot the tab plays (for ``/_local/info``)."""
        bot = self.console.simulator.bot
        intents = [intent.name for intent in bot.intents]
        return {"bot": bot.name, "locale": bot.locale_id, "intents": intents, "maxTextChars": MAX_TEXT_CHARS}

    def turn(self, request: Request) -> tuple[int, Any]:
        """``POST /_local/lex/turn``."""
        parsed = _parse(TurnRequest, request)
        if isinstance(parsed, tuple):
            return parsed
        simulator = self.console.simulator
        with self._lock_for(parsed.session_id):
            if parsed.session_attributes:
                simulator.set_attributes(parsed.session_id, parsed.session_attributes)
            turn = simulator.turn(parsed.session_id, parsed.text, request_attributes=parsed.request_attributes)
        return 200, turn.to_dict()

    def reset(self, request: Request) -> tuple[int, Any]:
        """``POST /_local/lex/reset``."""
        parsed = _parse(ResetRequest, request)
        if isinstance(parsed, tuple):
            return parsed
        with self._lock_for(parsed.session_id):
            self.console.simulator.reset(parsed.session_id)
        with self._guard:
            self._sessions.pop(parsed.session_id, None)
        return 200, {"sessionId": parsed.session_id, "reset": True}

    def _lock_for(self, session_id: str) -> threading.Lock:
        """The session's lock (most recently used now); forgets the least recently used sessions over the cap."""
        with self._guard:
            lock = self._sessions.pop(session_id, None) or threading.Lock()
            self._sessions[session_id] = lock
            while len(self._sessions) > self.max_sessions:
                forgotten, _ = self._sessions.popitem(last=False)
                self.console.simulator.reset(forgotten)
            return lock
