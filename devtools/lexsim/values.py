"""Slot values from text, the way the simulator resolves them (deterministic; not Lex's NLU).

* ``AMAZON.Date``: ISO dates (``2030-08-15``), US dates (``8/15/2030``), month names (``August 15th
  2030``, ``15 aug``; without a year: the next such day), ``today``, ``tomorrow``, ``the day after
  tomorrow``, ``yesterday``, weekday names (``friday``, ``on friday``, ``next friday``: the first such
  day after today), ``last friday`` (the latest one before today), ``in 3 days``, ``in 2 weeks``,
  ``next week`` (a week from today). Resolved to ``YYYY-MM-DD``.
* ``AMAZON.Number``: digits. ``AMAZON.City`` and every other built-in type: the span as the user said it.
* A custom slot type: its values and synonyms, case- and accent-insensitively. ``TOP_RESOLUTION``: the
  matching value, or nothing; ``ORIGINAL_VALUE``: what the user said, resolved to the value when it
  matches (``resolvedValues`` empty when not).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from devtools.lexsim.definition import SlotType

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH = {name: i + 1 for i, name in enumerate(MONTHS)} | {name[:3]: i + 1 for i, name in enumerate(MONTHS)}
_MONTH["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTH, key=len, reverse=True))
_LEADING = re.compile(r"^(?:on|for|to|from|in|at|the|of|it'?s|i said|leaving|flying)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class SlotValue:
    """A filled slot: what the user said, the interpreted value and the resolved values."""

    original: str
    interpreted: str
    resolved: tuple[str, ...] = ()

    def to_lex(self) -> dict[str, object]:
        """The Lex V2 Scalar slot."""
        return {
            "shape": "Scalar",
            "value": {
                "originalValue": self.original,
                "interpretedValue": self.interpreted,
                "resolvedValues": list(self.resolved),
            },
        }


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def strip_filler(text: str) -> str:
    """``text`` without leading prepositions such as "to", "from", "on" (repeatedly) and trailing punctuation."""
    span = text.strip().strip(".!?,;")
    while True:
        shorter = _LEADING.sub("", span, count=1)
        if shorter == span or not shorter:
            return span
        span = shorter


def _clean_day(text: str) -> str:
    return re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", fold(text)).replace(",", " ")


def parse_date(text: str, today: date) -> date | None:
    """The date ``text`` names relative to ``today`` (see the module docstring), else ``None``."""
    said = " ".join(_clean_day(text.strip().strip(".!?,;")).split())
    found = _relative_date(said, today) if said else None
    if found is None:
        bare = " ".join(_clean_day(strip_filler(text)).split())
        found = _relative_date(bare, today) if bare and bare != said else None
    return found


def _relative_date(said: str, today: date) -> date | None:
    simple = {"today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2, "the day after tomorrow": 2}
    if said in simple:
        return today + timedelta(days=simple[said])
    if said == "yesterday":
        return today - timedelta(days=1)
    if said == "next week":
        return today + timedelta(days=7)
    match = re.fullmatch(r"in (\d{1,3}) (day|days|week|weeks)", said)
    if match:
        count = int(match.group(1))
        return today + timedelta(days=count * (7 if match.group(2).startswith("week") else 1))
    match = re.fullmatch(rf"(?:(this|next|last|coming) )?({'|'.join(WEEKDAYS)})", said)
    if match:
        target = WEEKDAYS.index(match.group(2))
        if match.group(1) == "last":
            return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
        return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)
    return _absolute_date(said, today)


def _absolute_date(said: str, today: date) -> date | None:
    try:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", said)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", said)
        if match:
            return date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        match = re.fullmatch(rf"({_MONTH_RE}) (\d{{1,2}})(?: (\d{{4}}))?", said) or re.fullmatch(
            rf"(\d{{1,2}}) (?:of )?({_MONTH_RE})(?: (\d{{4}}))?", said
        )
        if match:
            first, second, year = match.groups()
            month, day = (_MONTH[first], int(second)) if first in _MONTH else (_MONTH[second], int(first))
            if year:
                return date(int(year), month, day)
            candidate = date(today.year, month, day)
            return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:  # 2030-02-31 and friends
        return None
    return None


def custom_value(slot_type: SlotType, text: str) -> SlotValue | None:
    """``text`` as a value of a custom slot type, per its resolution strategy."""
    said = strip_filler(text)
    if not said:
        return None
    wanted = fold(said)
    for entry in slot_type.values:
        if wanted in (fold(entry.value), *(fold(s) for s in entry.synonyms)):
            if slot_type.strategy == "TOP_RESOLUTION":
                return SlotValue(said, entry.value, (entry.value,))
            return SlotValue(said, said, (entry.value,))
    if slot_type.strategy == "TOP_RESOLUTION":
        return None
    return SlotValue(said, said, ())


def resolve(type_name: str, text: str, slot_types: Mapping[str, SlotType], today: date) -> SlotValue | None:
    """``text`` as a value of the slot type ``type_name``, or ``None`` when it is not one."""
    if type_name in slot_types:
        return custom_value(slot_types[type_name], text)
    said = strip_filler(text)
    if not said:
        return None
    if type_name == "AMAZON.Date":
        when = parse_date(said, today)
        return None if when is None else SlotValue(said, when.isoformat(), (when.isoformat(),))
    if type_name == "AMAZON.Number":
        digits = said.replace(",", "")
        return SlotValue(said, digits, (digits,)) if re.fullmatch(r"-?\d+(\.\d+)?", digits) else None
    return SlotValue(said, said, (said,))
