"""The simulator's dialog manager: plays a bot definition turn by turn the way Lex V2 runs a text conversation.

Per turn:

1. The utterance is read in context. While a slot is elicited, an utterance that matches another intent (a
   whole sample utterance, or a slot-free one within it: :data:`SWITCH_CONFIDENCE`) switches to it, as Lex V2
   can switch intents mid-dialog; otherwise it answers the slot (filled from the utterance; an answer that
   does not resolve re-prompts, up to the slot's ``MaxRetries``). Then a yes/no to a confirmation prompt,
   or else a new intent (``matcher.classify``; below the threshold: the fallback intent), with the slots
   the utterance filled.
2. If the intent has its dialog code hook on, the function gets a ``DialogCodeHook`` event (with
   ``interpretations``, ``transcriptions``, ``sessionState`` and, when Lex would elicit a slot next,
   ``proposedNextState``) and the simulator follows the returned dialog action: ``ElicitSlot``,
   ``ConfirmIntent``, ``ElicitIntent`` and ``Close`` are shown as returned (a missing slot or
   confirmation prompt is taken from the bot); ``Delegate`` hands the (updated) intent back to the
   simulator, which then acts like Lex: elicit the next missing required slot (by priority, with its
   prompt), ask the confirmation prompt, close on a declined confirmation, or fulfil.
3. Fulfilment calls the function with a ``FulfillmentCodeHook`` event (the fallback intent goes
   straight here) and follows its answer; without a fulfilment hook the intent closes ``Fulfilled``.

``sessionAttributes`` are kept between turns as Lex keeps them: a response that carries the map
replaces it, one without it leaves it as it was. Every response is checked by ``validate`` before it
is followed; an invalid response (or an exception) fails the turn the way Lex does, and the turn
reports it in ``problems``.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from devtools.lexsim.definition import BotDef, IntentDef
from devtools.lexsim.matcher import Match, classify, clean, slot_from_utterance

LOCAL_BOT_ID = "LOCALBOT01"
TEST_ALIAS = {"aliasId": "TSTALIASID", "aliasName": "TestBotAlias"}
NOT_UNDERSTOOD = "Sorry, can you please repeat that?"
"""What Lex says when nothing matches and the bot has no fallback intent."""
GAVE_UP = "Sorry, I could not understand. Goodbye."
"""What the simulator says when a slot's retries are used up (the intent fails)."""
SWITCH_CONFIDENCE = 0.8
"""While a slot is elicited, a match of another intent at least this good switches to it (matcher rules 1 and 2)."""
STUCK_AFTER = 2
"""Turns in a row that leave the same slot elicited before a turn says so (``Turn.stuck``)."""
_YES = frozenset({"yes", "y", "yeah", "yep", "sure", "ok", "okay", "correct", "confirm", "right", "please do"})
_NO = frozenset({"no", "n", "nope", "nah", "cancel", "don't", "do not", "stop", "wrong"})

Invoke = Callable[[dict[str, Any]], Any]
Validate = Callable[[Any], list[str]]


def validate_with_models(response: Any) -> list[str]:
    """Problems of a code-hook response by the project's strict Lex V2 response models (``[]``: valid)."""
    from pydantic import ValidationError

    from chatstate.lex.models import LexResponse

    try:
        LexResponse.model_validate(response)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
    return []


@dataclass
class Conversation:
    """What Lex keeps for one session between turns."""

    session_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    intent: dict[str, Any] | None = None
    awaiting: str | None = None
    """``"slot"`` (then ``slot`` is the one elicited), ``"confirmation"`` or ``None``."""
    slot: str | None = None
    retries: int = 0
    same_slot_turns: int = 0
    """Turns in a row that ended eliciting the slot they started on."""


@dataclass
class Turn:
    """One turn as the simulator played it (``to_dict()`` is the JSON a UI shows)."""

    session_id: str
    input: str
    dialog_action: dict[str, Any]
    intent: dict[str, Any] | None
    session_attributes: dict[str, str]
    messages: list[dict[str, Any]]
    interpretations: list[dict[str, Any]] = field(default_factory=list)
    code_hooks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stuck: dict[str, Any] | None = None
    """``{"intent", "slot", "tries"}`` once :data:`STUCK_AFTER` turns in a row left the same slot elicited."""

    @property
    def text(self) -> str:
        """The messages' contents, joined."""
        return " ".join(str(m.get("content", "")) for m in self.messages if m.get("content"))

    @property
    def slots(self) -> dict[str, str | None]:
        """``{slot: interpreted value or None}`` of the turn's intent."""
        return {name: _interpreted(slot) for name, slot in ((self.intent or {}).get("slots") or {}).items()}

    def to_dict(self) -> dict[str, Any]:
        """The turn as JSON: dialog action, intent (name, state, slots), session attributes, messages, …"""
        intent = None
        if self.intent is not None:
            intent = {
                "name": self.intent.get("name"),
                "state": self.intent.get("state"),
                "confirmationState": self.intent.get("confirmationState"),
                "slots": self.slots,
            }
        return {
            "sessionId": self.session_id,
            "input": self.input,
            "dialogAction": self.dialog_action,
            "intent": intent,
            "sessionAttributes": dict(self.session_attributes),
            "messages": list(self.messages),
            "interpretations": self.interpretations,
            "codeHooks": self.code_hooks,
            "problems": list(self.problems),
            "stuck": self.stuck,
        }


class _TurnFailed(Exception):
    """The function failed or answered with an invalid response: the turn ends like a Lex error."""


def _interpreted(slot: Any) -> str | None:
    if not isinstance(slot, Mapping):
        return None
    value = slot.get("value")
    return value.get("interpretedValue") if isinstance(value, Mapping) else None


class LexSimulator:
    """Plays ``bot`` against a code-hook function, one text turn at a time.

    Args:
        bot: The bot definition (``definition.load_bot()``).
        invoke: Calls the code hook with an event and returns its response (in-process).
        validate: Checks each response; returns the problems (default: the strict response models).
        today: The date relative dates resolve against (default: today in UTC, as the function sees it).
        bot_id: The ``bot.id`` the events carry (the function keys its sessions by it).
    """

    def __init__(
        self,
        bot: BotDef,
        invoke: Invoke,
        *,
        validate: Validate = validate_with_models,
        today: Callable[[], date] | None = None,
        bot_id: str = LOCAL_BOT_ID,
    ) -> None:
        self.bot = bot
        self.invoke = invoke
        self.validate = validate
        self.today = today or (lambda: datetime.now(UTC).date())
        self.bot_id = bot_id
        self.conversations: dict[str, Conversation] = {}

    # -- sessions -------------------------------------------------------------------------------------
    def conversation(self, session_id: str) -> Conversation:
        """The session's state (created empty on first use)."""
        if session_id not in self.conversations:
            self.conversations[session_id] = Conversation(session_id)
        return self.conversations[session_id]

    def set_attributes(self, session_id: str, attributes: Mapping[str, str]) -> None:
        """Set session attributes as a client would (``RecognizeText``'s ``sessionState``)."""
        self.conversation(session_id).attributes.update({str(k): str(v) for k, v in attributes.items()})

    def reset(self, session_id: str) -> None:
        """Forget the session (Lex's DeleteSession)."""
        self.conversations.pop(session_id, None)

    # -- a turn ---------------------------------------------------------------------------------------
    def turn(self, session_id: str, text: str, *, request_attributes: Mapping[str, str] | None = None) -> Turn:
        """Play one user utterance; never raises for what the function does."""
        state = self.conversation(session_id)
        play = _Play(self, state, clean(text), dict(request_attributes or {}))
        before = copy.deepcopy(state)
        try:
            return self._track_stuck(before, play.run())
        except _TurnFailed as exc:
            self.conversations[session_id] = before  # Lex keeps the session as it was
            return Turn(
                session_id,
                play.text,
                {"type": "Error"},
                before.intent,
                dict(before.attributes),
                [{"contentType": "PlainText", "content": f"[simulator] {exc}"}],
                play.interpretations,
                play.hooks,
                [str(exc), *play.problems],
            )

    def _track_stuck(self, before: Conversation, turn: Turn) -> Turn:
        """Count turns that leave the same slot elicited; report it from :data:`STUCK_AFTER` on."""
        after = self.conversation(turn.session_id)
        elicited = (after.awaiting, (after.intent or {}).get("name"), after.slot)
        started = (before.awaiting, (before.intent or {}).get("name"), before.slot)
        same = after.awaiting == "slot" and elicited == started
        after.same_slot_turns = before.same_slot_turns + 1 if same else 0
        if after.same_slot_turns >= STUCK_AFTER:
            turn.stuck = {"intent": elicited[1], "slot": after.slot, "tries": after.same_slot_turns}
        return turn


class _Play:
    """One turn in progress."""

    def __init__(self, sim: LexSimulator, state: Conversation, text: str, request_attributes: dict[str, str]):
        self.sim = sim
        self.bot = sim.bot
        self.state = state
        self.text = text
        self.request_attributes = request_attributes
        self.today = sim.today()
        self.hooks: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.interpretations: list[dict[str, Any]] = []
        self.request_id = str(uuid.uuid4())
        """One per turn: Lex's dialog and fulfillment invocations of a turn share it."""

    # -- reading the utterance ------------------------------------------------------------------------
    def run(self) -> Turn:
        state = self.state
        if state.awaiting == "slot" and state.intent is not None and state.slot:
            return self._answer_slot(self.bot.intent(state.intent["name"]), state.slot)
        if state.awaiting == "confirmation" and state.intent is not None:
            return self._answer_confirmation(self.bot.intent(state.intent["name"]))
        return self._new_intent()

    def _new_intent(self) -> Turn:
        matches = classify(self.bot, self.text, self.today) if self.text else []
        chosen = matches[0] if matches and matches[0].confidence >= self.bot.nlu_threshold else None
        fallback = self.bot.fallback
        self.interpretations = [self._interpretation(m) for m in matches[:3]]
        if fallback is not None:
            self.interpretations.append(
                {"interpretationSource": "Lex", "intent": _intent_dict(fallback, {}, "InProgress")}
            )
        if chosen is None:
            if fallback is None:
                self._clear()
                return self._show({"type": "ElicitIntent"}, None, [_plain(NOT_UNDERSTOOD)])
            self.interpretations.insert(0, self.interpretations.pop())
            return self._fulfil(_intent_dict(fallback, {}, "ReadyForFulfillment"), fallback)
        intent_def = chosen.intent
        self.state.retries = 0
        return self._dialog(_intent_dict(intent_def, chosen.slots, "InProgress"), intent_def)

    def _switch(self, current: IntentDef) -> Match | None:
        """Another intent the utterance clearly asks for while ``current`` elicits a slot (else ``None``)."""
        matches = classify(self.bot, self.text, self.today) if self.text else []
        top = matches[0] if matches else None
        if top is None or top.intent.name == current.name or top.confidence < SWITCH_CONFIDENCE:
            return None
        return top

    def _answer_slot(self, intent_def: IntentDef, slot_name: str) -> Turn:
        switched = self._switch(intent_def)
        if switched is not None:
            self._clear()
            self.state.retries = 0
            self.interpretations = [self._interpretation(switched)]
            return self._dialog(_intent_dict(switched.intent, switched.slots, "InProgress"), switched.intent)
        intent = copy.deepcopy(self.state.intent) or _intent_dict(intent_def, {}, "InProgress")
        value = slot_from_utterance(self.bot, intent_def, slot_name, self.text, self.today)
        self.interpretations = [self._interpretation(Match(intent_def, 1.0))]
        if value is None:
            return self._retry_slot(intent, intent_def, slot_name)
        intent.setdefault("slots", {})[slot_name] = value.to_lex()
        intent["state"] = "InProgress"
        self.interpretations = [{"interpretationSource": "Lex", "intent": intent, "nluConfidence": 1.0}]
        self.state.retries = 0
        return self._dialog(intent, intent_def)

    def _retry_slot(self, intent: dict[str, Any], intent_def: IntentDef, slot_name: str) -> Turn:
        slot = intent_def.slot(slot_name)
        self.state.retries += 1
        if slot is None or self.state.retries > slot.max_retries:
            intent["state"] = "Failed"
            self._clear()
            return self._show({"type": "Close"}, intent, [_plain(GAVE_UP)])
        return self._show(
            {"type": "ElicitSlot", "slotToElicit": slot_name}, intent, self._prompt(slot.prompt, intent), keep=True
        )

    def _answer_confirmation(self, intent_def: IntentDef) -> Turn:
        intent = copy.deepcopy(self.state.intent) or _intent_dict(intent_def, {}, "InProgress")
        said = " ".join(self.text.casefold().split())
        if said in _YES:
            intent["confirmationState"] = "Confirmed"
        elif said in _NO:
            intent["confirmationState"] = "Denied"
        else:
            self.state.retries += 1
            if self.state.retries > 2:
                intent["state"] = "Failed"
                self._clear()
                return self._show({"type": "Close"}, intent, [_plain(GAVE_UP)])
            prompt = self._prompt(intent_def.confirmation_prompt, intent)
            return self._show({"type": "ConfirmIntent"}, intent, prompt, keep=True)
        self.state.retries = 0
        self.interpretations = [{"interpretationSource": "Lex", "intent": intent, "nluConfidence": 1.0}]
        return self._dialog(intent, intent_def)

    # -- Lex's dialog management ----------------------------------------------------------------------
    def _dialog(self, intent: dict[str, Any], intent_def: IntentDef) -> Turn:
        """The dialog code hook (when on), else Lex's own next step."""
        if not intent_def.dialog_hook:
            return self._lex_next(intent, intent_def, [])
        proposed = self._proposed(intent, intent_def)
        response = self._call("DialogCodeHook", intent, proposed)
        return self._follow(response, intent, intent_def, "DialogCodeHook")

    def _proposed(self, intent: dict[str, Any], intent_def: IntentDef) -> dict[str, Any] | None:
        missing = _missing_slot(intent, intent_def)
        if missing is None:
            return None
        attempt = "Initial" if self.state.retries == 0 else f"Retry{min(self.state.retries, 5)}"
        return {
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": missing},
            "intent": copy.deepcopy(intent),
            "prompt": {"attempt": attempt},
        }

    def _lex_next(self, intent: dict[str, Any], intent_def: IntentDef, messages: list[dict[str, Any]]) -> Turn:
        """What Lex does after ``Delegate`` (or without a dialog hook)."""
        intent = copy.deepcopy(intent)
        missing = _missing_slot(intent, intent_def)
        if missing is not None:
            intent["state"] = "InProgress"
            slot = intent_def.slot(missing)
            prompt = self._prompt(slot.prompt if slot else None, intent)
            return self._show({"type": "ElicitSlot", "slotToElicit": missing}, intent, messages + prompt, keep=True)
        confirmation = intent.get("confirmationState") or "None"
        if intent_def.confirmation_prompt and confirmation == "None":
            prompt = self._prompt(intent_def.confirmation_prompt, intent)
            return self._show({"type": "ConfirmIntent"}, intent, messages + prompt, keep=True)
        if confirmation == "Denied":
            intent["state"] = "Failed"
            self._clear()
            declined = self._prompt(intent_def.declination_response, intent)
            return self._show({"type": "Close"}, intent, messages + declined)
        return self._fulfil({**intent, "state": "ReadyForFulfillment"}, intent_def, messages)

    def _fulfil(
        self, intent: dict[str, Any], intent_def: IntentDef, messages: list[dict[str, Any]] | None = None
    ) -> Turn:
        if not intent_def.fulfillment_hook:
            intent = {**intent, "state": "Fulfilled"}
            self._clear()
            closing = self._prompt(intent_def.closing_response, intent)
            return self._show({"type": "Close"}, intent, (messages or []) + closing)
        response = self._call("FulfillmentCodeHook", intent, None)
        return self._follow(response, intent, intent_def, "FulfillmentCodeHook", messages or [])

    def _follow(
        self,
        response: dict[str, Any],
        intent: dict[str, Any],
        intent_def: IntentDef,
        source: str,
        earlier: list[dict[str, Any]] | None = None,
    ) -> Turn:
        session_state = response.get("sessionState") or {}
        if "sessionAttributes" in session_state:
            self.state.attributes = dict(session_state["sessionAttributes"] or {})
        action = dict(session_state.get("dialogAction") or {})
        kind = action.get("type")
        returned = session_state.get("intent")
        current = _merge_intent(intent, returned)
        messages = (earlier or []) + list(response.get("messages") or [])
        if kind == "Delegate":
            if source == "FulfillmentCodeHook":
                current["state"] = returned.get("state") if returned and returned.get("state") else "Fulfilled"
                self._clear()
                return self._show({"type": "Close"}, current, messages)
            return self._lex_next(current, self.bot.intent(current["name"]), messages)
        if kind == "ElicitSlot":
            slot_name = str(action.get("slotToElicit"))
            target_def = self.bot.intent(current["name"])
            if not messages:
                slot = target_def.slot(slot_name)
                messages = self._prompt(slot.prompt if slot else None, current)
            self.state.retries = 0
            return self._show(action, current, messages, keep=True)
        if kind == "ConfirmIntent":
            if not messages:
                messages = self._prompt(self.bot.intent(current["name"]).confirmation_prompt, current)
            return self._show(action, current, messages, keep=True)
        if kind == "ElicitIntent":
            self._clear()
            return self._show(action, None, messages)
        self._clear()  # Close
        return self._show(action, current, messages)

    # -- the function -----------------------------------------------------------------------------------
    def _call(self, source: str, intent: dict[str, Any], proposed: dict[str, Any] | None) -> dict[str, Any]:
        event = self._event(source, intent, proposed)
        try:
            response = self.sim.invoke(event)
        except Exception as exc:  # the function crashed: Lex reports a dependency failure
            self.hooks.append({"invocationSource": source, "error": f"{type(exc).__name__}: {exc}"})
            raise _TurnFailed(f"the {source} invocation raised {type(exc).__name__}") from exc
        problems = self.sim.validate(response)
        session_state = response.get("sessionState") if isinstance(response, dict) else None
        action = session_state.get("dialogAction") if isinstance(session_state, dict) else None
        self.hooks.append({"invocationSource": source, "intent": intent.get("name"), "dialogAction": action})
        if problems:
            self.problems.extend(problems)
            raise _TurnFailed(f"invalid Lambda response from the {source}: {problems[0]}")
        return response

    def _event(self, source: str, intent: dict[str, Any], proposed: dict[str, Any] | None) -> dict[str, Any]:
        session_state: dict[str, Any] = {
            "sessionAttributes": dict(self.state.attributes),
            "activeContexts": [],
            "intent": copy.deepcopy(intent),
            "originatingRequestId": self.request_id,
        }
        if self.state.awaiting == "slot" and self.state.slot:
            session_state["dialogAction"] = {"type": "ElicitSlot", "slotToElicit": self.state.slot}
        elif self.state.awaiting == "confirmation":
            session_state["dialogAction"] = {"type": "ConfirmIntent"}
        event: dict[str, Any] = {
            "messageVersion": "1.0",
            "invocationSource": source,
            "inputMode": "Text",
            "responseContentType": "text/plain; charset=utf-8",
            "sessionId": self.state.session_id,
            "inputTranscript": self.text,
            "bot": {
                "id": self.sim.bot_id,
                "name": self.bot.name,
                "localeId": self.bot.locale_id,
                "version": "DRAFT",
                **TEST_ALIAS,
            },
            "interpretations": copy.deepcopy(self.interpretations)
            or [{"interpretationSource": "Lex", "intent": copy.deepcopy(intent)}],
            "requestAttributes": dict(self.request_attributes) if self.request_attributes else None,
            "sessionState": session_state,
            "transcriptions": [
                {
                    "transcription": self.text,
                    "transcriptionConfidence": 1,
                    "resolvedContext": {"intent": intent.get("name")},
                    "resolvedSlots": {k: v for k, v in (intent.get("slots") or {}).items() if v},
                }
            ],
        }
        if proposed is not None:
            event["proposedNextState"] = proposed
        return event

    # -- output ---------------------------------------------------------------------------------------
    def _show(
        self,
        action: dict[str, Any],
        intent: dict[str, Any] | None,
        messages: list[dict[str, Any]],
        *,
        keep: bool = False,
    ) -> Turn:
        if keep and intent is not None:
            self.state.intent = intent
            if action.get("type") == "ElicitSlot":
                self.state.awaiting, self.state.slot = "slot", str(action.get("slotToElicit"))
            else:
                self.state.awaiting, self.state.slot = "confirmation", None
        return Turn(
            self.state.session_id,
            self.text,
            action,
            copy.deepcopy(intent),
            dict(self.state.attributes),
            messages,
            self.interpretations,
            self.hooks,
            self.problems,
        )

    def _clear(self) -> None:
        self.state.intent, self.state.awaiting, self.state.slot = None, None, None

    def _prompt(self, text: str | None, intent: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A bot prompt with ``{Slot}`` and ``((attribute))`` references filled in (``[]`` when there is none)."""
        if not text:
            return []
        slots = intent.get("slots") or {}
        filled = re.sub(r"\{(\w+)\}", lambda m: _interpreted(slots.get(m.group(1))) or m.group(0), text)
        filled = re.sub(r"\(\((\w+)\)\)", lambda m: self.state.attributes.get(m.group(1), ""), filled)
        return [_plain(filled)]

    @staticmethod
    def _interpretation(match: Match) -> dict[str, Any]:
        return {
            "interpretationSource": "Lex",
            "intent": _intent_dict(match.intent, match.slots, "InProgress"),
            "nluConfidence": match.confidence,
        }


def _plain(text: str) -> dict[str, Any]:
    return {"contentType": "PlainText", "content": text}


def _intent_dict(intent_def: IntentDef, slots: Mapping[str, Any], state: str) -> dict[str, Any]:
    values = {slot.name: (slots[slot.name].to_lex() if slot.name in slots else None) for slot in intent_def.slots}
    return {"name": intent_def.name, "slots": values, "state": state, "confirmationState": "None"}


def _missing_slot(intent: Mapping[str, Any], intent_def: IntentDef) -> str | None:
    slots = intent.get("slots") or {}
    for slot in intent_def.slots:
        if slot.required and _interpreted(slots.get(slot.name)) is None:
            return slot.name
    return None


def _merge_intent(current: dict[str, Any], returned: Mapping[str, Any] | None) -> dict[str, Any]:
    """The intent after a code hook: the returned one replaces the current (Lex takes it as given)."""
    if not returned:
        return copy.deepcopy(current)
    merged = copy.deepcopy(dict(returned))
    if "slots" not in merged:
        merged["slots"] = copy.deepcopy(current.get("slots") or {})
    merged.setdefault("confirmationState", current.get("confirmationState", "None"))
    merged.setdefault("state", current.get("state", "InProgress"))
    return merged
