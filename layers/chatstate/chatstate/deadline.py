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
from typing import Any, Protocol

from chatstate.exceptions import DeadlineExceeded as DeadlineExceeded  # raised here; callers catch it from here

DEFAULT_MARGIN_SECONDS = 1.0
"""Time kept back from the Lambda deadline to build and return the answer."""

_MAX_BACKOFF_SECONDS = 20
"""botocore's standard-mode cap on one retry delay (``botocore.retries.standard.ExponentialBackoff``)."""


class _BotocoreClient(Protocol):
    """What ``guard_client`` reads of a botocore client (botocore ships no types)."""

    meta: Any


class Deadline:
    """A point in (monotonic) time by which the invocation's outbound work must be done.

    Args:
        seconds: Budget from now (negative values count as zero).
        clock: Monotonic clock in seconds (tests inject a fake one).
    """

    __slots__ = ("_clock", "_expires", "seconds")

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds = max(0.0, seconds)
        """The whole budget, as opened."""
        self._expires = clock() + self.seconds

    @classmethod
    def from_context(cls, context: Any, *, margin_seconds: float = DEFAULT_MARGIN_SECONDS) -> Deadline | None:
        """The budget of a Lambda invocation: its remaining time minus ``margin_seconds``.

        ``None`` when ``context`` has no ``get_remaining_time_in_millis`` (a plain call from a script).
        """
        remaining_millis: Callable[[], int] | None = getattr(context, "get_remaining_time_in_millis", None)
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


def attempt_seconds(client: Any) -> float:
    """The longest one attempt of ``client`` can take: its connect timeout plus its read timeout."""
    config = client.meta.config
    return float(config.connect_timeout) + float(config.read_timeout)


def guard_client[C: _BotocoreClient](client: C, *, what: str | None = None) -> C:
    """Bound a botocore client by the current budget; returns ``client``.

    Two hooks on ``client.meta.events``, both no-ops while no budget is open:

    * ``before-send``: an attempt (the first or a retry) starts only if the budget still covers its
      worst case, ``attempt_seconds(client)`` (connect + read timeout), else ``DeadlineExceeded``.
      botocore catches an exception raised there like a transport error, offers it to its retry
      handler (which does not retry it: it is neither a connection error nor a throttle) and then
      re-raises it from the API call (``botocore.endpoint.Endpoint._send_request``). Nothing was sent.
    * ``needs-retry`` (registered first): when the failed attempt is one botocore's standard policy
      would retry, but the budget cannot cover the longest backoff before the next attempt plus that
      attempt, ``DeadlineExceeded`` is raised at once (chained to the attempt's error) instead of
      sleeping first (its message names the attempt's error or error code). Exceptions raised by
      ``needs-retry`` handlers propagate out of the API call.

    So no attempt starts, and no retry sleeps, unless it can end within the budget: the worst case
    of a call is bounded by the budget, whatever the endpoint does (delay, hang, drop, throttle, 5xx).
    One caveat: botocore's read timeout bounds each socket read, so an endpoint that trickles bytes
    slower than that could hold an attempt longer; DynamoDB and Bedrock answer in one piece.

    Args:
        client: A botocore client with standard-mode retries.
        what: The name used in ``DeadlineExceeded`` messages (default: the service's name).
    """
    from botocore.retries.standard import ExponentialBackoff, RetryEventAdapter, StandardRetryConditions

    meta = client.meta
    service = meta.service_model.service_id.hyphenize()
    label = what or meta.service_model.service_id
    per_attempt = attempt_seconds(client)
    max_attempts = int(meta.config.retries.get("total_max_attempts") or 3)
    retryable = StandardRetryConditions(max_attempts=max_attempts)
    longest_backoff = ExponentialBackoff(max_backoff=_MAX_BACKOFF_SECONDS, random=lambda: 1.0)
    adapter = RetryEventAdapter()

    def before_send(event_name: str = "", **_: Any) -> None:
        check(f"{label} {event_name.rsplit('.', 1)[-1]}", needs=per_attempt)

    def needs_retry(event_name: str = "", **kwargs: Any) -> None:
        deadline = _current.get()
        if deadline is None:
            return
        context = adapter.create_retry_context(**kwargs)
        if not retryable.is_retryable(context):
            return
        needed = longest_backoff.delay_amount(context) + per_attempt
        if deadline.remaining() < needed:
            error = context.caught_exception
            cause = type(error).__name__ if error is not None else context.get_error_code()
            operation = event_name.rsplit(".", 1)[-1]
            raise DeadlineExceeded(f"a retry of {label} {operation} (after {cause})") from error

    meta.events.register_first(f"before-send.{service}", before_send, unique_id=f"chatstate-deadline-send-{service}")
    meta.events.register_first(f"needs-retry.{service}", needs_retry, unique_id=f"chatstate-deadline-retry-{service}")
    return client
