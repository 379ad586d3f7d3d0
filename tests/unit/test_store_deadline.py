"""The store's retry loop takes its budget from the invocation's deadline, never from a fixed count alone."""

from __future__ import annotations

import pytest

from chatstate import deadline
from chatstate.exceptions import ConflictError, DeadlineExceeded
from chatstate.models import NewMessage, SessionRef
from chatstate.store.base import WriteConflict
from chatstate.store.memory import InMemorySessionStore

REF = SessionRef.of("alice", "s-1")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class AlwaysLosing(InMemorySessionStore):
    """Every write loses to a concurrent writer; each attempt takes 0.3 s of the (fake) budget."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(max_attempts=1000)
        self.clock = clock
        self.attempts = 0

    def _write(self, *args, **kwargs) -> None:
        self.attempts += 1
        self.clock.now += 0.3
        raise WriteConflict({"turn"})


def test_conflict_retries_stop_when_the_budget_is_spent() -> None:
    clock = FakeClock()
    store = AlwaysLosing(clock)
    with deadline.within(deadline.Deadline(1.0, clock=clock)), pytest.raises(DeadlineExceeded):
        store.append(REF, [NewMessage(role="user", content="hi")])
    assert store.attempts == 4  # 0.3 s each: the fifth attempt would start after the 1 s budget
    assert store.get(REF) is None


def test_without_a_budget_the_attempt_count_bounds_the_loop() -> None:
    store = AlwaysLosing(FakeClock())
    store.max_attempts = 5
    with pytest.raises(ConflictError):
        store.append(REF, [NewMessage(role="user", content="hi")])
    assert store.attempts == 5


def test_an_exhausted_budget_sends_nothing() -> None:
    clock = FakeClock()
    store = AlwaysLosing(clock)
    with deadline.within(deadline.Deadline(0.0, clock=clock)), pytest.raises(DeadlineExceeded):
        store.load(REF)
    assert store.attempts == 0
