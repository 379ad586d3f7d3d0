"""A user's data across channels: export everything stored for them, and erase it (GDPR articles 15 and 17).

What belongs to a user (the verified subject, the chat API's JWT ``sub``):

* every HTTP API session of theirs (found through the conversation list's index, expired ones included):
  metadata, state, messages, idempotency records;
* their profile (the ``U<sub>`` item);
* the Lex turns they made while signed in: each such turn names them (``Turn.author``), and the first
  verified turn of a conversation links it to them. A shared Lex conversation (a kiosk) keeps everyone
  else's turns: they are never exported to, nor erased for, this user.

Both operations are paged by an opaque cursor bound to the user: an export page stops at about
``EXPORT_PAGE_BYTES`` of messages, and an erase stops when less than ``RESERVE_SECONDS`` of the
invocation's budget (``chatstate.deadline``) is left, answering with a cursor to resume from. The erase
deletes a session's head (its list entry) last, so an interrupted erase finds the rest again; it is
idempotent, and a finished erase leaves no item of the user, even where TTL has not deleted it yet.
Requests: O(sessions + turns / page) for both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chatstate import deadline
from chatstate.exceptions import InvalidCursor
from chatstate.models import Message, SessionRef
from chatstate.profile import ProfileStore, check_subject
from chatstate.store.port import SessionStore

EXPORT_PAGE_BYTES = 1_000_000
"""Message text per export page (a response stays far below Lambda's 6 MB)."""

RESERVE_SECONDS = 3.0
"""Budget kept back by an erase to answer with its cursor."""

HISTORY_PAGE_TURNS = 200

ERASE_KINDS = ("sessions", "turns", "idempotency_records", "lex_turns", "lex_links", "profile")


def _binding(subject: str) -> str:
    return hashlib.sha256(("account\x00" + subject).encode()).hexdigest()[:16]


def _encode(subject: str, data: dict[str, Any]) -> str:
    raw = json.dumps({**data, "v": 1, "h": _binding(subject)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(subject: str, cursor: str) -> dict[str, Any]:
    try:
        if len(cursor) > 2048:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("bad version")
        binding = str(data["h"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if not secrets.compare_digest(binding, _binding(subject)):
        raise InvalidCursor("cursor was issued for another user")
    return data


def _message(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": message.effective_content,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class AccountService:
    """Export and erase one user's data across the HTTP API sessions, the profile and their Lex turns.

    Args:
        store: The session store (HTTP API sessions, Lex conversations, links).
        profiles: The profile store, or a zero-argument factory called on first use.
    """

    def __init__(self, store: SessionStore, profiles: ProfileStore | Callable[[], ProfileStore]) -> None:
        self.store = store
        self._profiles = profiles

    @property
    def profiles(self) -> ProfileStore:
        """The profile store (built on first use)."""
        if not isinstance(self._profiles, ProfileStore):
            self._profiles = self._profiles()
        return self._profiles

    # -- export -----------------------------------------------------------------------------------
    def export(self, subject: str, cursor: str | None = None) -> dict[str, Any]:
        """One page of everything stored for ``subject``: ``{"profile"?, "sessions", "lex_turns", "next_cursor"}``.

        A page ends after about ``EXPORT_PAGE_BYTES`` of messages or when the invocation's budget runs low
        (always with some progress). The first page carries the profile. A session too large for one page
        continues on the next with its older messages (same ``session_id``, ``"continued": true``): merge
        by id, older messages first.
        Raises ``InvalidCursor``; ``ValueError`` for an unusable subject.
        """
        check_subject(subject)
        state = _decode(subject, cursor) if cursor else {"p": "s"}
        page: dict[str, Any] = {"sessions": [], "lex_turns": []}
        if cursor is None:
            page["profile"] = self.profiles.get(subject)
        budget = [EXPORT_PAGE_BYTES]
        if state["p"] == "s":
            resume = self._export_sessions(subject, state, page, budget)
            if resume is not None:
                page["next_cursor"] = _encode(subject, resume)
                return page
            state = {"p": "l", "i": 0}
        following = self._export_lex(subject, int(state.get("i", 0)), page, budget)
        page["next_cursor"] = None if following is None else _encode(subject, {"p": "l", "i": following})
        return page

    def _export_sessions(
        self, subject: str, state: dict[str, Any], page: dict[str, Any], budget: list[int]
    ) -> dict[str, Any] | None:
        """Fill ``page`` with sessions from the cursor's position; the cursor state to resume from, or ``None``."""
        after, below, within = state.get("a"), state.get("b"), state.get("s")
        while True:
            refs, more = self.store.session_refs(subject, after=after)
            for ref, position in refs:
                if below is not None and ref.session_id != within:
                    below = None  # the session being continued is gone (or moved): this one starts afresh
                if self._out_of_time() and page["sessions"]:
                    return {"p": "s", "a": after, "b": below, "s": ref.session_id}
                entry, left = self._export_session(ref, below, budget)
                if entry is not None:
                    if below is not None:
                        entry["continued"] = True
                    page["sessions"].append(entry)
                if left is not None:
                    return {"p": "s", "a": after, "b": left, "s": ref.session_id}
                below, after = None, position
                if budget[0] <= 0:
                    return {"p": "s", "a": after}
            if not more:
                return None

    def _export_session(
        self, ref: SessionRef, below: int | None, budget: list[int]
    ) -> tuple[dict[str, Any] | None, int | None]:
        """A session with its messages (newest turns first, as the budget allows) and where older ones resume."""
        session = self.store.get(ref)
        if session is None:
            return None, None
        pages: list[list[Message]] = []
        while True:
            messages, below = self.store.history(
                ref, below=below, limit=HISTORY_PAGE_TURNS, incarnation=session.incarnation
            )
            pages.append(messages)
            budget[0] -= sum(len(m.content) for m in messages)
            if below is None or budget[0] <= 0 or self._out_of_time():
                break
        entry = {
            "session_id": ref.session_id,
            "title": session.title,
            "created_at": _iso(session.created_at),
            "updated_at": _iso(session.updated_at),
            "expires_at": _iso(session.expires_at),
            "message_count": session.message_count,
            "state": session.state,
            "messages": [_message(m) for chunk in reversed(pages) for m in chunk],
        }
        return entry, below

    def _export_lex(self, subject: str, start: int, page: dict[str, Any], budget: list[int]) -> int | None:
        """Add the user's Lex turns, conversation by conversation from ``start``; where to resume, or ``None``."""
        links = sorted(self.store.links(subject), key=lambda r: (r.actor_id, r.session_id))
        for position in range(start, len(links)):
            if (budget[0] <= 0 or self._out_of_time()) and (page["sessions"] or page["lex_turns"]):
                return position
            ref = links[position]
            turns = self.store.authored_turns(ref, subject)
            budget[0] -= sum(len(m.content) for _, messages in turns for m in messages)
            if turns:
                page["lex_turns"].append(
                    {
                        "bot_id": ref.actor_id,
                        "session_id": ref.session_id,
                        "turns": [{"turn": n, "messages": [_message(m) for m in messages]} for n, messages in turns],
                    }
                )
        return None

    # -- erase ------------------------------------------------------------------------------------
    def erase(self, subject: str, cursor: str | None = None) -> dict[str, Any]:
        """Erase everything of ``subject``; ``{"erased": {kind: count}, "complete", "next_cursor"}``.

        Counts add up over the calls of one erase (the cursor carries them). Raises ``InvalidCursor``.
        """
        check_subject(subject)
        state = _decode(subject, cursor) if cursor else {}
        counts = {kind: int(state.get("c", {}).get(kind, 0)) for kind in ERASE_KINDS}
        after = state.get("a")
        while True:
            refs, more = self.store.session_refs(subject, after=after)
            for ref, position in refs:
                done = False
                while not done:
                    if self._out_of_time():
                        return self._receipt(subject, counts, after)
                    erased, done = self.store.wipe(ref)
                    counts["sessions"] += erased["sessions"]
                    counts["turns"] += erased["turns"]
                    counts["idempotency_records"] += erased["requests"]
                after = position
            if not more:
                break
        for ref in self.store.links(subject):
            if self._out_of_time():
                return self._receipt(subject, counts, after)
            counts["lex_turns"] += self.store.erase_authored(ref, subject)
            self.store.unlink(subject, ref)
            counts["lex_links"] += 1
        counts["profile"] += int(self.profiles.delete(subject))
        return {"erased": counts, "complete": True, "next_cursor": None}

    @staticmethod
    def _out_of_time() -> bool:
        left = deadline.remaining_seconds()
        return left is not None and left < RESERVE_SECONDS

    @staticmethod
    def _receipt(subject: str, counts: dict[str, int], after: str | None) -> dict[str, Any]:
        cursor = _encode(subject, {"a": after, "c": counts})
        return {"erased": counts, "complete": False, "next_cursor": cursor}
