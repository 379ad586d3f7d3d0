"""A deterministic utterance → intent matcher over the bot's sample utterances. It is NOT Lex's NLU.

Rules, in order (the best score wins; ties go to the intent declared first):

1. The whole utterance matches a sample utterance, ``{Slot}`` standing for any span (case and
   punctuation ignored): confidence 1.0, and the spans fill their slots when they resolve as the
   slot's type (a span that does not resolve leaves its slot empty).
2. A slot-free sample utterance appears in the utterance as whole words ("hello there" → "hello"):
   confidence 0.8.
3. Word overlap with a sample utterance's literal words (at least half of them, and every one of
   them a whole word of the utterance): confidence 0.7 * overlap.

Below the locale's ``NluConfidenceThreshold`` the utterance goes to the fallback intent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from devtools.lexsim.definition import BotDef, IntentDef
from devtools.lexsim.values import SlotValue, fold, resolve

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Match:
    """An intent the utterance matched, how well, and the slots it filled."""

    intent: IntentDef
    confidence: float
    slots: dict[str, SlotValue] = field(default_factory=dict)


def clean(text: str) -> str:
    """The utterance with whitespace collapsed and trailing punctuation dropped."""
    return " ".join(text.split()).strip(".!?;: ")


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'/-]+", fold(text))


@lru_cache(maxsize=256)
def _pattern(utterance: str) -> re.Pattern[str]:
    parts = []
    position = 0
    for slot in _SLOT.finditer(utterance):
        parts.append(re.escape(utterance[position : slot.start()].strip()))
        parts.append(f"(?P<{slot.group(1)}>.+?)")
        position = slot.end()
    parts.append(re.escape(utterance[position:].strip()))
    body = r"[\s,]+".join(p for p in parts if p)
    return re.compile(body.replace(r"\ ", r"[\s,]+"), re.IGNORECASE)


def _full(intent: IntentDef, said: str, bot: BotDef, today: date) -> Match | None:
    best: Match | None = None
    for utterance in intent.utterances:
        found = _pattern(utterance).fullmatch(said)
        if found is None:
            continue
        slots: dict[str, SlotValue] = {}
        for name, span in found.groupdict().items():
            slot = intent.slot(name)
            value = resolve(slot.type_name, span, bot.slot_types, today) if slot else None
            if value is not None:
                slots[name] = value
        if best is None or len(slots) > len(best.slots):
            best = Match(intent, 1.0, slots)
    return best


def _partial(intent: IntentDef, said: str) -> Match | None:
    words = _words(said)
    joined = f" {' '.join(words)} "
    score = 0.0
    for utterance in intent.utterances:
        literal = _words(_SLOT.sub(" ", utterance))
        if not literal:
            continue
        if not _SLOT.search(utterance) and f" {' '.join(literal)} " in joined:
            score = max(score, 0.8)
            continue
        common = sum(1 for w in literal if w in words)
        if common * 2 >= len(literal) and common == len(set(literal) & set(words)):
            score = max(score, round(0.7 * common / len(literal), 2))
    return Match(intent, score) if score else None


def classify(bot: BotDef, text: str, today: date) -> list[Match]:
    """The intents ``text`` matches, best first (the fallback intent is never among them)."""
    said = clean(text)
    if not said:
        return []
    found: list[Match] = []
    for intent in bot.intents:
        if intent.is_fallback:
            continue
        match = _full(intent, said, bot, today) or _partial(intent, said)
        if match is not None:
            found.append(match)
    order = {intent.name: i for i, intent in enumerate(bot.intents)}
    return sorted(found, key=lambda m: (-m.confidence, -len(m.slots), order[m.intent.name]))


def slot_from_utterance(bot: BotDef, intent: IntentDef, slot_name: str, text: str, today: date) -> SlotValue | None:
    """The value of ``slot_name`` in an answer to its prompt: a sample utterance's span, else the whole answer."""
    said = clean(text)
    match = _full(intent, said, bot, today)
    if match is not None and slot_name in match.slots:
        return match.slots[slot_name]
    slot = intent.slot(slot_name)
    return resolve(slot.type_name, said, bot.slot_types, today) if slot else None
