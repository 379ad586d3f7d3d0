"""What a backend stores for a session, as plain records: the head and one record per turn.

The store algorithm (``chatstate.store.base``) reads and writes these through a backend's
primitives; the DynamoDB adapter maps them to items (``chatstate.store.items``), the in-memory twin
keeps them in dicts. A session is its head plus its turns:

* ``Head``: created/updated times, incarnation, typed state and its version, and the counters as of
  the last head write. Rewritten only when the state changes or its TTL needs a refresh.
* ``Turn``: the messages of one turn with the counters after it, written once, never updated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from chatstate.models import SCHEMA_VERSION, Message


@dataclass(frozen=True)
class Head:
    """A session's head record.

    ``expires_at`` is when the backend's TTL may delete the head: the session's own lifetime plus a
    slack, so a head that is not rewritten every turn never disappears under a live session.
    """

    incarnation: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    version: int = 1
    state: dict[str, Any] = field(default_factory=dict)
    turns: int = 0
    event_count: int = 0
    message_count: int = 0
    schema_version: int = SCHEMA_VERSION
    title: str | None = None
    activity: datetime | None = None
    """The activity time the conversation list holds (``None``: not listed yet); moved at most every
    ``StorePolicy.index_interval_seconds`` of activity."""


@dataclass(frozen=True)
class Turn:
    """One turn: its number (the optimistic lock), its messages and the counters after it."""

    number: int
    messages: tuple[Message, ...]
    event_count: int
    message_count: int
    created_at: datetime
    expires_at: datetime
    origin: str | None = None
    """The tag of the request that wrote the turn: ``append``'s ``origin``, else its ``request_id``."""
    author: str | None = None
    """The verified user who made the turn (``append``'s ``author``), when one was signed in."""


class WriteConflict(Exception):
    """A backend write's condition failed: ``kinds`` names what (``turn``, ``head``, ``request``; empty: unknown)."""

    def __init__(self, kinds: Iterable[str] = ()) -> None:
        super().__init__("write condition failed")
        self.kinds = frozenset(kinds)


ABOVE_EVERY_TURN = 1 << 62
"""A turn number above every turn a backend can hold: ``below`` for reading turns from the newest on."""


HeadMode = Literal["create", "replace", "touch"]


@dataclass(frozen=True)
class HeadWrite:
    """A head write and its condition.

    * ``create``: put ``head``; the head must be absent (``expect_incarnation`` ``None``) or still hold
      the dead incarnation ``expect_incarnation``.
    * ``replace``: put ``head`` (a state change); the head must hold ``head.incarnation`` at version
      ``expect_version``.
    * ``touch``: set only ``expires_at``, the counters, the listed activity and (if it has none) the title;
      the head must hold ``head.incarnation``.
    """

    head: Head
    mode: HeadMode
    expect_incarnation: int | None = None
    expect_version: int | None = None


@dataclass
class Snapshot:
    """A head (``None`` if absent) and the newest turns of its incarnation, newest first."""

    head: Head | None
    turns: list[Turn] = field(default_factory=list)
    more: bool = False
    """The read stopped before the oldest turn (item limit or page size): more turns may follow."""
