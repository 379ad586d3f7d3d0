"""Backend-independent session transitions shared by every ``SessionStore`` adapter.

Adapters read the current session, ask these functions for the next one, and write it back under
an optimistic-concurrency condition. Keeping the rules here is what makes the in-memory twin and
the DynamoDB adapter behave identically.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chatstate.exceptions import DuplicateRequest, InvalidCursor, ItemTooLarge
from chatstate.models import Message, NewMessage, RequestRecord, Session, SessionRef, StatePatch, to_jsonable
from chatstate.store import items
from chatstate.store.port import MAX_PAGE_SIZE, StorePolicy


def now_ms(policy: StorePolicy) -> datetime:
    """The policy clock's current time truncated to milliseconds (the stored precision)."""
    moment = policy.now()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def is_live(session: Session | None, now: datetime) -> bool:
    """True when the session exists and has not expired (``expires_at`` strictly in the future)."""
    return session is not None and items.epoch_seconds(session.expires_at) > items.epoch_seconds(now)


def new_incarnation(now: datetime, previous: int = 0) -> int:
    """A fresh incarnation: wall-clock microseconds (never behind ``now``) and 4 random digits, above ``previous``.

    Later incarnations sort above earlier ones, so leftovers of a deleted session never shadow the
    new one's newest messages; the random digits make two re-creations in one microsecond distinct.
    """
    micros = max(int(now.timestamp() * 1_000_000), time.time_ns() // 1000)
    return max(micros * 10_000 + secrets.randbelow(10_000), previous + 1)


def new_session(
    ref: SessionRef,
    *,
    policy: StorePolicy,
    now: datetime,
    channel: str,
    state: Mapping[str, Any] | None = None,
    previous: Session | None = None,
) -> Session:
    """A brand-new session (replacing ``previous`` when that one expired or was deleted)."""
    return Session(
        session_id=ref.session_id,
        actor_id=ref.actor_id,
        channel=channel,
        created_at=now,
        updated_at=now,
        expires_at=policy.expiry_from(now),
        incarnation=new_incarnation(now, previous.incarnation if previous else 0),
        state={key: to_jsonable(value) for key, value in (state or {}).items()},
    )


def plan_append(
    current: Session,
    messages: Sequence[NewMessage],
    *,
    policy: StorePolicy,
    now: datetime,
    patch: StatePatch | None,
    request_id: str | None,
) -> tuple[Session, list[Message]]:
    """The session after appending ``messages`` to ``current``, and the messages as stored.

    Raises ``DuplicateRequest`` when ``request_id`` was already applied to this session.
    """
    if request_id is not None and request_id in current.requests:
        raise DuplicateRequest(request_id, current.requests[request_id])
    stored: list[Message] = []
    seq = current.event_count
    for new in messages:
        seq += 1
        content, redacted = policy.redact(new.content)
        stored.append(Message(seq=seq, role=new.role, content=content, created_at=now, redacted=redacted))
    message_count = current.message_count + sum(1 for m in stored if m.role == "user")
    requests = dict(current.requests)
    if request_id is not None:
        requests[request_id] = RequestRecord(
            request_id=request_id,
            first_seq=current.event_count + 1,
            last_seq=seq,
            message_count=message_count,
            applied_at=now,
        )
        if len(requests) > policy.recent_requests:
            newest = sorted(requests.values(), key=lambda r: r.applied_at)[-policy.recent_requests :]
            requests = {r.request_id: r for r in newest}
    updated = current.model_copy(
        update={
            "updated_at": now,
            "expires_at": policy.expiry_from(now),
            "message_count": message_count,
            "event_count": seq,
            "version": current.version + 1,
            "state": patch.apply_to(current.state) if patch else dict(current.state),
            "requests": requests,
        }
    )
    return updated, stored


def plan_state_change(current: Session, state: dict[str, Any], *, policy: StorePolicy, now: datetime) -> Session:
    """The session with new state, a bumped version and a refreshed expiry."""
    return current.model_copy(
        update={
            "state": state,
            "updated_at": now,
            "expires_at": policy.expiry_from(now),
            "version": current.version + 1,
        }
    )


def check_item_size(item: items.Item, what: str) -> items.Item:
    """``item`` unchanged, or ``ItemTooLarge`` naming ``what`` if it would pass the 400 KB item limit."""
    size = items.item_size(item)
    if size > items.MAX_ITEM_BYTES:
        raise ItemTooLarge(
            f"{what} would take {size} bytes, over the {items.MAX_ITEM_BYTES}-byte item limit",
            size=size,
            limit=items.MAX_ITEM_BYTES,
        )
    return item


def check_session_size(session: Session) -> items.Item:
    """The session's metadata item, or ``ItemTooLarge`` if it would pass the 400 KB item limit."""
    return check_item_size(items.session_to_item(session), "session state")


def check_message_sizes(ref: SessionRef, session: Session, messages: Sequence[Message]) -> list[items.Item]:
    """Message items, or ``ItemTooLarge`` if any would pass the 400 KB item limit."""
    return [
        check_item_size(items.message_to_item(ref, session.incarnation, m, session.expires_at), f"message {m.seq}")
        for m in messages
    ]


def clamp_page_size(limit: int) -> int:
    """Validate a page size (1..MAX_PAGE_SIZE)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def _cursor_binding(ref: SessionRef, incarnation: int) -> str:
    digest = hashlib.sha256(f"{ref.actor_id}\x00{ref.session_id}\x00{incarnation}".encode()).hexdigest()
    return digest[:16]


def encode_cursor(ref: SessionRef, incarnation: int, before_seq: int) -> str:
    """An opaque cursor: page back from ``before_seq`` (exclusive), bound to this session incarnation."""
    raw = json.dumps({"v": 1, "i": incarnation, "b": before_seq, "h": _cursor_binding(ref, incarnation)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a position")


def decode_cursor(ref: SessionRef, cursor: str) -> tuple[int, int]:
    """(incarnation, before_seq) from a cursor; ``InvalidCursor`` if malformed or issued for another session."""
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), parse_constant=_no_constant)
        incarnation, before_seq, binding = data["i"], data["b"], str(data["h"])
        if type(incarnation) is not int or type(before_seq) is not int:  # no floats, no booleans
            raise ValueError("positions must be integers")
        in_range = 0 <= incarnation < 10**items.INCARNATION_DIGITS and 1 <= before_seq < 10**items.SEQ_DIGITS
        if data.get("v") != 1 or not in_range:  # key widths of chatstate.store.items
            raise ValueError("bad version or position")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if not secrets.compare_digest(binding, _cursor_binding(ref, incarnation)):
        raise InvalidCursor("cursor was issued for another session")
    return incarnation, before_seq


def page_from_newest(
    ref: SessionRef, incarnation: int, newest_first: list[Message], limit: int
) -> tuple[list[Message], str | None]:
    """Turn up to ``limit + 1`` current messages (newest first) into a page (oldest first) and cursor."""
    page = newest_first[:limit]
    has_more = len(newest_first) > limit
    cursor = encode_cursor(ref, incarnation, page[-1].seq) if page and has_more and page[-1].seq > 1 else None
    return list(reversed(page)), cursor
