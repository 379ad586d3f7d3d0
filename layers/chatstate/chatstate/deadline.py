"""The invocation's time budget: every outbound call and retry loop takes its budget from here.

A handler opens the budget once per invocation from the Lambda context (``get_remaining_time_in_millis``
minus a safety margin for answering) with ``within(Deadline.from_context(context))``. Code below it
(the store's optimistic-concurrency loop, the DynamoDB and Bedrock clients' attempts) calls
``check("what")`` before starting work that could outlive the budget, and ``remaining_seconds()`` to
size a wait or a timeout. With no budget open (tests, scripts) nothing is bounded by it.

The budget lives in a ``ContextVar``, so concurrent invocations in threads (the local server) each
see their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from chatstate.exceptions import DeadlineExceeded

DEFAULT_MARGIN_SECONDS = 1.0
"""Time kept back from the Lambda deadline to build and return the answer."""


class Deadline:
    """A point in (monotonic) time by which the invocation's outbound work must be done.

    Args:
        seconds: Budget from now (negative values count as zero).
        clock: Monotonic clock in seconds (tests inject a fake one).
    """

    __slots__ = ("_clock", "_expires")

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expires = clock() + max(0.0, seconds)

    @classmethod
    def from_context(cls, context: Any, *, margin_seconds: float = DEFAULT_MARGIN_SECONDS) -> Deadline | None:
        """The budget of a Lambda invocation: its remaining time minus ``margin_seconds``.

        ``None`` when ``context`` has no ``get_remaining_time_in_millis`` (a plain call from a script).
        """
        remaining_millis = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining_millis):
            return None
        return cls(remaining_millis() / 1000.0 - margin_seconds)

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._expires - self._clock())

    def expired(self) -> bool:
        """Whether the budget is spent."""
        return self.remaining() <= 0.0

    def check(self, what: str, *, needs: float = 0.0) -> float:
        """Seconds left; raises ``DeadlineExceeded`` if fewer than ``needs`` (or none) remain before ``what``."""
        left = self.remaining()
        if left <= 0.0 or left < needs:
            raise DeadlineExceeded(what)
        return left


_current: ContextVar[Deadline | None] = ContextVar("chatstate_deadline", default=None)


def current() -> Deadline | None:
    """The budget of the running invocation, or ``None`` when none is open."""
    return _current.get()


@contextmanager
def within(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make ``deadline`` the current budget for the ``with`` block (``None``: unbounded)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def remaining_seconds() -> float | None:
    """Seconds left in the current budget, or ``None`` when unbounded."""
    deadline = _current.get()
    return None if deadline is None else deadline.remaining()


def check(what: str, *, needs: float = 0.0) -> None:
    """Raise ``DeadlineExceeded`` if the current budget cannot cover ``needs`` seconds of ``what``."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check(what, needs=needs)
