"""Pure helpers of the store algorithm: clock, incarnations, size limit, page size, cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from datetime import datetime
from typing import Any

from chatstate.exceptions import InvalidCursor, InvalidRequest, ItemTooLarge
from chatstate.models import SessionRef
from chatstate.store import capacity
from chatstate.store.port import MAX_PAGE_SIZE, PAGE_SIZE_RULE, StorePolicy

_MAX_CURSOR_NUMBER = 10**12


def to_ms(moment: datetime) -> datetime:
    """``moment`` truncated to milliseconds (the precision times are stored with)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def now_ms(policy: StorePolicy) -> datetime:
    """The policy clock's current time truncated to milliseconds (the stored precision)."""
    return to_ms(policy.now())


def epoch_seconds(moment: datetime) -> int:
    """A datetime as whole epoch seconds (TTL precision, the unit of the TTL attribute)."""
    return int(moment.timestamp())


def epoch_ms(moment: datetime) -> int:
    """A datetime as whole epoch milliseconds, the unit of stored times (rounded: a parsed value maps back exactly)."""
    return round(moment.timestamp() * 1000)


def alive(expires_at: datetime, now: datetime) -> bool:
    """True while ``expires_at`` is strictly in the future, at TTL precision (whole seconds)."""
    return epoch_seconds(expires_at) > epoch_seconds(now)


def new_incarnation(now: datetime, previous: int = 0) -> int:
    """A fresh incarnation: wall-clock microseconds (never behind ``now``) and 4 random digits, above ``previous``.

    Later incarnations sort above earlier ones, so leftovers of a deleted session never shadow the
    new one's newest turns; the random digits make two re-creations in one microsecond distinct.
    """
    micros = max(int(now.timestamp() * 1_000_000), time.time_ns() // 1000)
    return max(micros * 10_000 + secrets.randbelow(10_000), previous + 1)


def check_item_size(item: dict[str, Any], what: str) -> None:
    """``ItemTooLarge`` naming ``what`` if ``item`` would pass the 400 KB item limit."""
    size = capacity.item_size(item)
    if size > capacity.MAX_ITEM_BYTES:
        raise ItemTooLarge(
            f"{what} would take {size} bytes, over the {capacity.MAX_ITEM_BYTES}-byte item limit",
            size=size,
            limit=capacity.MAX_ITEM_BYTES,
        )


def check_page_size(limit: int) -> int:
    """``limit`` if it is a page size (1..MAX_PAGE_SIZE), else ``InvalidRequest`` naming ``limit``.

    The one check of the bound: the chat API's query model checks only that ``limit`` is an integer.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest("limit", PAGE_SIZE_RULE)
    return limit


def _cursor_binding(ref: SessionRef, incarnation: int) -> str:
    raw = f"{ref.channel}\x00{ref.actor_id}\x00{ref.session_id}\x00{incarnation}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_cursor(ref: SessionRef, incarnation: int, turn: int, index: int) -> str:
    """An opaque cursor: page back from message ``index`` of ``turn`` (exclusive), bound to this incarnation."""
    raw = json.dumps({"v": 2, "i": incarnation, "t": turn, "x": index, "h": _cursor_binding(ref, incarnation)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a position")


def decode_cursor(ref: SessionRef, cursor: str) -> tuple[int, int, int]:
    """(incarnation, turn, index) from a cursor; ``InvalidCursor`` if malformed or issued for another session."""
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), parse_constant=_no_constant)
        values = [data["i"], data["t"], data["x"]]
        if data.get("v") != 2 or not all(type(v) is int for v in values):
            raise ValueError("bad version or numbers")
        incarnation, turn, index = values
        if not (0 <= incarnation < 62**11 and 1 <= turn < _MAX_CURSOR_NUMBER and 0 <= index < _MAX_CURSOR_NUMBER):
            raise ValueError("out of range")
        binding = str(data["h"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if not secrets.compare_digest(binding, _cursor_binding(ref, incarnation)):
        raise InvalidCursor("cursor was issued for another session")
    return incarnation, turn, index


TITLE_CHARS = 60
"""Longest derived title (characters), cut at a word boundary."""


def derive_title(text: str, limit: int = TITLE_CHARS) -> str | None:
    """A title from a first user message: whitespace collapsed, cut at a word boundary with an ellipsis."""
    words = " ".join(text.split())
    if not words:
        return None
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def check_title(title: str, limit: int) -> str:
    """A renamed title, trimmed; ``ValueError`` if empty, longer than ``limit`` or holding control characters."""
    clean = title.strip()
    if not clean or len(clean) > limit or any(ord(c) < 32 or ord(c) == 127 for c in clean):
        raise ValueError(f"title must be 1..{limit} characters without control characters")
    return clean


def _scope_binding(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def encode_list_cursor(scope: str, activity_ms: int, session_id: str) -> str:
    """An opaque cursor of the conversation list: continue after (activity, session id), bound to the actor."""
    raw = json.dumps({"v": 1, "a": activity_ms, "s": session_id, "h": _scope_binding(scope)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_list_cursor(scope: str, cursor: str) -> tuple[int, str]:
    """(activity ms, session id) from a list cursor; ``InvalidCursor`` if malformed or another actor's."""
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), parse_constant=_no_constant)
        activity, session_id, binding = data["a"], data["s"], str(data["h"])
        if data.get("v") != 1 or type(activity) is not int or not isinstance(session_id, str) or activity < 0:
            raise ValueError("bad cursor fields")
        SessionRef.of("x", session_id)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if not secrets.compare_digest(binding, _scope_binding(scope)):
        raise InvalidCursor("cursor was issued for another actor")
    return activity, session_id
