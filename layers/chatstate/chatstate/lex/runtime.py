"""The Lex V2 adapter every turn runs: parse, load once, decode, dispatch, encode, save once, answer.

``LexRuntime(router, store=...)`` is built once per execution environment; ``runtime.handle(event)``
holds no per-request state outside its own frame, so nothing leaks between invocations.

The user's utterance is recorded once per Lex request (docs/lex-v2.md E10). Lex invokes the function
twice for one utterance when an intent has both code hooks (``DialogCodeHook``, then, after a
``Delegate`` with every slot filled, ``FulfillmentCodeHook``), with the same ``inputTranscript`` and
``originatingRequestId``. Each saved turn is tagged with a digest of that pair (``append(origin=...)``),
and the turn's load reads the newest turn's tag back (``Session.origin``) at no extra cost: when it
matches, the utterance is already in the transcript and only the answer is recorded. Events without
``originatingRequestId`` are recorded as they come.

Failure behaviour (Lex always gets a valid response):

* unparseable event, handler exception, store throttled/unreachable (``StoreUnavailable``) or any
  other ``ChatSessionError``: ``Close``/``Failed`` with a polite message when the intent name is
  known, else ``ElicitIntent`` with a message; the inbound ``sessionAttributes`` are echoed back
  unchanged (or left out when Lex sent none), so Lex never erases them; nothing is saved.
* ``AttributesTooLarge``: ``Close``/``Failed`` without ``sessionAttributes`` (Lex keeps its stored
  map) and the durable state is not saved.

Logs carry ids, the intent, the invocation source and error types, never the transcript, message
text or attribute values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pydantic import ValidationError

from chatstate import deadline
from chatstate.attributes import (
    LEX_SESSION_ATTRIBUTES_LIMIT,
    AttributesTooLarge,
    DecodedAttributes,
    SessionAttributes,
    encoded_size,
    same_json,
    secret_fields,
)
from chatstate.exceptions import ChatSessionError, StaleState
from chatstate.lex import dialog
from chatstate.lex.models import LexEvent, LexResponse
from chatstate.lex.router import IntentRouter, LexRequest, TurnContext
from chatstate.logsafe import error_fields, safe_id, validation_summary
from chatstate.models import AppendResult, Message, NewMessage, Session, SessionRef, StatePatch, utc_now
from chatstate.settings import DEFAULT_HISTORY_TURNS
from chatstate.store.port import NEW_SESSION, SessionStore

if TYPE_CHECKING:
    from chatstate.chat.responders import Responder
    from chatstate.lex.profile_link import LinkedProfile, ProfileLink, VerifiedProfile

FAILURE_MESSAGE = "Sorry, something went wrong on my side. Please try again in a moment."
INVALID_REQUEST_MESSAGE = "Sorry, I didn't get that. What would you like to do?"
MAX_TURN_RUNS = 8
"""How often one Lex turn may run when concurrent turns keep changing the session state under it."""
_TRANSCRIPT_TYPES = frozenset({"PlainText", "SSML"})


class _Run(NamedTuple):
    """One run of a turn: the answer for Lex and what saving it would write."""

    answer: dict[str, Any]
    response: LexResponse
    messages: list[NewMessage]
    changes: dict[str, Any]
    remove: frozenset[str]
    attributes: SessionAttributes
    linked: LinkedProfile | None


class _Outcome(NamedTuple):
    """How a turn ended: the run that counts, how many runs it took, the session it ran on and what was saved."""

    run: _Run
    runs: int
    session: Session | None
    saved: AppendResult | None


class MetricsSink(Protocol):
    """What the runtime needs from a metrics object (Powertools ``Metrics`` fits)."""

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        """Add a value to a metric."""


class LexRuntime[A: SessionAttributes]:
    """Runs Lex V2 turns through an ``IntentRouter`` with durable, typed session state.

    Args:
        router: The intent registry; its ``attributes_type`` is the bot's ``SessionAttributes``.
        store: The ``SessionStore``.
        logger: A ``logging.Logger``-compatible logger (Powertools ``Logger`` fits).
        metrics: A metrics sink (Powertools ``Metrics`` fits); ``None`` records nothing.
        now: The clock handed to handlers (tests inject a fixed one).
        failure_message: What the user hears when the turn fails.
        responder: The agent of the router's fallback turns; ``None`` turns agent turns off.
        profiles: Links a verified user's turns to their cross-channel profile (``ProfileLink``);
            ``None``: every turn is anonymous.
        history_turns: How many earlier turns (user + assistant pairs) an agent turn loads as context.
    """

    def __init__(
        self,
        router: IntentRouter[A],
        *,
        store: SessionStore,
        logger: Any | None = None,
        metrics: MetricsSink | None = None,
        now: Callable[[], datetime] | None = None,
        failure_message: str = FAILURE_MESSAGE,
        responder: Responder | None = None,
        history_turns: int = DEFAULT_HISTORY_TURNS,
        profiles: ProfileLink | None = None,
    ) -> None:
        self.router = router
        self.store = store
        self.logger = logger if logger is not None else logging.getLogger("chatstate.lex")
        self.metrics = metrics
        self.now = now or utc_now
        self.failure_message = failure_message
        self.responder = responder
        self.history_turns = max(0, history_turns)
        self.profiles = profiles

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        """Lambda-style entry point; same as ``handle(event)``."""
        return self.handle(event)

    # -- the turn ------------------------------------------------------------------------------------
    def handle(self, event: Any) -> dict[str, Any]:
        """Answer one Lex V2 code-hook event with a valid response dict; never raises, never mutates ``event``."""
        started = time.perf_counter()
        try:
            parsed = LexEvent.model_validate(event)
        except ValidationError as exc:
            return self._fail(event, None, "InvalidEvent", started, detail=validation_summary(exc))
        try:
            ref = SessionRef.lex(parsed.bot.id, parsed.session_id)
        except ValidationError:
            return self._fail(event, parsed, "InvalidSessionId", started)
        try:
            return self._turn(parsed, ref, started)
        except AttributesTooLarge:
            return self._too_large(parsed, started)
        except ChatSessionError as exc:
            return self._fail(event, parsed, type(exc).__name__, started)
        except Exception as exc:
            self.logger.error("lex turn failed in a handler", extra={**self._ids(parsed), **error_fields(exc)})
            return self._fail(event, parsed, type(exc).__name__, started, logged=True)

    def _turn(self, event: LexEvent, ref: SessionRef, started: float) -> dict[str, Any]:
        """Load once, run the turn, save once; re-run it on the fresh state if a concurrent turn changed it.

        The turn is the transaction: handlers only read and change the session attributes, so running
        the handler again on the state another turn just wrote makes read-modify-write attributes
        (counters, lists) exact. Bounded by ``MAX_TURN_RUNS`` and the invocation's deadline.
        """
        agent = self.responder if self.router.wants_agent(event) else None
        loaded = self.store.load(ref, last=2 * self.history_turns if agent is not None else 0)
        verified = self.profiles.verify(event, self.router.attributes_type) if self.profiles is not None else None
        session = loaded.session if loaded is not None else None
        history = loaded.recent if loaded is not None else []
        if self.profiles is not None:  # the agent sees only this person's turns
            history = self.profiles.history(verified, session, history)
        outcome = self._run_until_saved(event, ref, session, history, agent=agent, verified=verified)
        result = outcome.run
        if result.linked is not None and self.profiles is not None:  # only the saved run reaches the profile
            self.profiles.save(result.linked, result.attributes)
        saved = outcome.saved
        if verified is not None and self.profiles is not None and saved is not None and saved.messages:
            self._link(ref, verified.subject, outcome.session, self.profiles.profiles.ttl_seconds)
        self._count("LexTurns")
        self.logger.info(
            "lex turn",
            extra={
                **self._ids(event),
                "dialog_action": result.response.dialog_action_type,
                "runs": outcome.runs,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
        )
        return result.answer

    def _run_until_saved(
        self,
        event: LexEvent,
        ref: SessionRef,
        session: Session | None,
        history: list[Message],
        *,
        agent: Responder | None,
        verified: VerifiedProfile | None,
    ) -> _Outcome:
        """The run that was saved (or had nothing to save), how many runs it took and the session it ran on.

        A run whose state patch went stale (``StaleState``) runs again on the fresh session, up to
        ``MAX_TURN_RUNS`` runs and within the invocation's deadline.
        """
        key = utterance_key(event)
        runs = 1
        while True:
            result = self._run(
                event, session, history=history, agent=agent, verified=verified, first=runs == 1, key=key
            )
            if not (result.messages or result.changes or result.remove):
                return _Outcome(result, runs, session, None)
            try:
                saved = self.store.append(
                    ref,
                    result.messages,
                    expected=session if session is not None else NEW_SESSION,
                    state=StatePatch(values=result.changes, remove=result.remove),
                    origin=key,
                    author=verified.subject if verified is not None else None,
                )
                return _Outcome(result, runs, session, saved)
            except StaleState as stale:
                if runs == MAX_TURN_RUNS:
                    raise
                deadline.check("lex turn re-run")
                self._count("LexTurnReruns")
                session = stale.session
                runs += 1

    def _link(self, ref: SessionRef, subject: str, session: Session | None, ttl_seconds: int) -> None:
        """Link the conversation to the verified user on their first turn of it (the newest turn was not theirs).

        Their turns name them (``append(author=...)``); the link finds the conversation for an export or erase.
        """
        if session is not None and session.author == subject:
            return
        self.store.link(subject, ref, ttl_seconds=ttl_seconds)

    def _run(
        self,
        event: LexEvent,
        session: Session | None,
        *,
        history: list[Message],
        agent: Responder | None,
        verified: VerifiedProfile | None,
        first: bool,
        key: str | None,
    ) -> _Run:
        """Decode, dispatch and encode one run of the turn on ``session`` (nothing is saved here).

        ``key`` is the turn's ``utterance_key``: when the newest stored turn carries it, an earlier
        invocation of this Lex request recorded the utterance, so only the answer is recorded now.
        """
        recorded = key is not None and session is not None and session.origin == key
        durable = session.state if session is not None else None
        decoded = self._decode(event, durable, verified, report=first)
        linked = self.profiles.apply(verified, decoded.attributes) if self.profiles is not None else None
        request = LexRequest(
            event=event,
            attributes=decoded.attributes,
            extras=decoded.extras,
            rejected=decoded.rejected,
            ignored=decoded.ignored,
        )
        turn = TurnContext(request=request, session=session, now=self.now, history=history, responder=agent)
        if agent is not None:  # a fallback turn with the agent on (``IntentRouter.wants_agent``)
            from chatstate.lex.agent import agent_turn  # its thread pool is imported for agent turns only

            response = agent_turn(turn, agent, history, lambda: self.router.dispatch(turn))
        else:
            response = self.router.dispatch(turn)
        attributes = decoded.attributes.encode(decoded.extras)
        answer = self._finish(response, event, attributes)
        changes, remove = decoded.attributes.state_changes(durable), frozenset[str]()
        if self.profiles is not None:
            changes, remove = self.profiles.durable_changes(verified, changes, session)
        return _Run(
            answer,
            response,
            self._transcript(event, response, utterance=not recorded),
            changes,
            remove,
            decoded.attributes,
            linked,
        )

    def _decode(
        self, event: LexEvent, durable: Mapping[str, Any] | None, verified: VerifiedProfile | None, *, report: bool
    ) -> DecodedAttributes[A]:
        """The turn's typed attributes from Lex's map over the durable state; ``report``: log what was refused."""
        inbound: Mapping[str, str] | None = event.session_state.session_attributes
        start: Mapping[str, Any] | None = durable
        if self.profiles is not None:  # nothing of another identity: shared fields, or all after a switch of person
            inbound, start = self.profiles.screen(verified, self.router.attributes_type, inbound, durable)
        decoded = self.router.attributes_type.decode(inbound, start)
        if decoded.rejected and report:
            self._count("LexRejectedAttributes", len(decoded.rejected))
            self.logger.warning(
                "session attributes rejected", extra={**self._ids(event), "rejected_fields": sorted(decoded.rejected)}
            )
        tampered = _tampered(decoded.ignored, event.session_state.session_attributes, durable, decoded.attributes)
        if tampered and report:
            self._count("LexTamperedAttributes", len(tampered))
            self.logger.warning(
                "server-only attributes set by the client were ignored",
                extra={**self._ids(event), "tampered_fields": tampered},
            )
        return decoded

    @staticmethod
    def _finish(response: LexResponse, event: LexEvent, attributes: dict[str, str] | None) -> dict[str, Any]:
        """The response dict, session attributes set, ``originatingRequestId`` echoed (docs/lex-v2.md R10)."""
        answer = response.to_dict()
        state = answer["sessionState"]
        if attributes is not None:
            state["sessionAttributes"] = attributes
        if "originatingRequestId" in state:
            if event.session_state.originating_request_id:
                state["originatingRequestId"] = event.session_state.originating_request_id
            else:
                del state["originatingRequestId"]
        return answer

    @staticmethod
    def _transcript(event: LexEvent, response: LexResponse, *, utterance: bool) -> list[NewMessage]:
        """The messages to record: the user's utterance (unless ``utterance`` is false) and the spoken answer."""
        messages: list[NewMessage] = []
        if utterance and event.input_transcript:
            messages.append(NewMessage(role="user", content=event.input_transcript))
        for message in response.messages or ():
            if message.content_type in _TRANSCRIPT_TYPES and message.content:
                messages.append(NewMessage(role="assistant", content=message.content))
        return messages

    # -- failures ------------------------------------------------------------------------------------
    def _fail(
        self,
        raw: Any,
        event: LexEvent | None,
        error_type: str,
        started: float,
        *,
        detail: Any = None,
        logged: bool = False,
    ) -> dict[str, Any]:
        """A valid failure response that echoes the inbound session attributes unchanged."""
        self._count("LexErrors")
        if not logged:
            extra = self._ids(event, error_type) if event is not None else {"error_type": error_type}
            if detail:
                extra["validation_errors"] = detail
            self.logger.error("lex turn failed", extra=extra)
        return failure_answer(raw, event, self.failure_message)

    def _too_large(self, event: LexEvent, started: float) -> dict[str, Any]:
        """``Close``/``Failed`` without session attributes: Lex keeps its stored map; nothing was saved."""
        self._count("LexErrors")
        self.logger.error("session attributes too large", extra=self._ids(event, "AttributesTooLarge"))
        name = event.session_state.intent.name
        response = (
            dialog.close(name, "Failed", self.failure_message) if name else dialog.elicit_intent(self.failure_message)
        )
        return response.to_dict()

    # -- observability -------------------------------------------------------------------------------
    def _count(self, name: str, value: float = 1) -> None:
        if self.metrics is not None:
            self.metrics.add_metric(name=name, unit="Count", value=value)

    @staticmethod
    def _ids(event: LexEvent | None, error_type: str | None = None) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        if event is not None:
            ids = {
                "lex_session_id": safe_id(event.session_id),
                "bot_id": safe_id(event.bot.id),
                "intent": safe_id(event.session_state.intent.name),
                "invocation_source": safe_id(event.invocation_source),
                "originating_request_id": safe_id(event.session_state.originating_request_id),
            }
        if error_type is not None:
            ids["error_type"] = error_type
        return ids


def utterance_key(event: LexEvent) -> str | None:
    """A short digest of the event's ``originatingRequestId`` and ``inputTranscript`` (``None`` without both).

    Equal for every invocation Lex makes for one utterance; different for another request, even with
    the same words. A digest (16 characters) keeps the turn item small and holds no text.
    """
    request_id = event.session_state.originating_request_id
    if not request_id or not event.input_transcript:
        return None
    digest = hashlib.blake2b(f"{request_id}\x00{event.input_transcript}".encode(), digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _tampered(
    ignored: tuple[str, ...],
    inbound: Mapping[str, str] | None,
    durable: Mapping[str, Any] | None,
    attributes: SessionAttributes,
) -> list[str]:
    """Server-only fields whose inbound value is not the one this function last sent (the client changed it).

    Non-secret server-only fields are sent to Lex read-only, so Lex echoes them back every turn: an
    echo equal to the durable value is not tampering. Any inbound value of a secret field is.
    """
    if not ignored or not inbound:
        return []
    fields = type(attributes).model_fields
    secret = secret_fields(type(attributes))
    durable = durable or {}
    tampered = []
    for name in ignored:
        sent = inbound.get(fields[name].alias or name)
        if name in secret or name not in durable or not _same_value(sent, durable[name]):
            tampered.append(name)
    return tampered


def _same_value(sent: str | None, kept: Any) -> bool:
    """Whether an inbound string is the Lex encoding of a durable (``to_state()``) value."""
    if sent is None:
        return False
    if isinstance(kept, str) and sent == kept:
        return True
    try:
        decoded = json.loads(sent)
    except ValueError:
        return False
    return same_json(decoded, kept)


def _raw_session_state(raw: Any) -> Mapping[str, Any]:
    state = raw.get("sessionState") if isinstance(raw, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def _raw_intent_name(raw: Any) -> str | None:
    """The intent name of an event that failed to parse, if it has a usable one."""
    intent = _raw_session_state(raw).get("intent")
    name = intent.get("name") if isinstance(intent, Mapping) else None
    return name if isinstance(name, str) and name.strip() else None


def _raw_session_attributes(raw: Any) -> Mapping[str, Any] | None:
    """The session attributes of an event that failed to parse, if it has a map there."""
    attributes = _raw_session_state(raw).get("sessionAttributes")
    return attributes if isinstance(attributes, Mapping) else None


def _echoable(attributes: Mapping[str, Any] | None) -> dict[str, str] | None:
    """A copy of inbound attributes to echo back, or ``None`` (leave them out) if Lex would refuse them."""
    if attributes is None:
        return None
    if not all(isinstance(k, str) and k and isinstance(v, str) for k, v in attributes.items()):
        return None
    echo = dict(attributes)
    return echo if encoded_size(echo) <= LEX_SESSION_ATTRIBUTES_LIMIT else None


def failure_answer(raw: Any, event: LexEvent | None = None, message: str = FAILURE_MESSAGE) -> dict[str, Any]:
    """A valid Lex failure response for ``raw`` (parsed as ``event`` when it parsed), echoing its attributes.

    ``Close``/``Failed`` when the intent name is known, else ``ElicitIntent``; the inbound ``sessionAttributes``
    come back unchanged (or stay out when Lex sent none), so Lex never erases them.
    """
    name = event.session_state.intent.name if event is not None else _raw_intent_name(raw)
    if event is not None:
        inbound: Mapping[str, str] | None = event.session_state.session_attributes
    else:
        inbound = _raw_session_attributes(raw)
    if name:
        response = dialog.close(name, "Failed", message)
    else:
        response = dialog.elicit_intent(message if event is not None else INVALID_REQUEST_MESSAGE)
    answer = response.to_dict()
    echo = _echoable(inbound)
    if echo is not None:
        answer["sessionState"]["sessionAttributes"] = echo
    return answer
