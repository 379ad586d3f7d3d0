import pytest

from chatstate import deadline
from chatstate.deadline import Deadline
from chatstate.exceptions import DeadlineExceeded, StoreUnavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeContext:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_budget_is_remaining_time_minus_margin():
    budget = Deadline.from_context(FakeContext(10_000), margin_seconds=1.5)
    assert budget is not None
    assert 8.4 < budget.remaining() <= 8.5


def test_no_lambda_context_means_no_budget():
    assert Deadline.from_context(object()) is None
    assert deadline.remaining_seconds() is None
    deadline.check("anything")  # unbounded: never raises


def test_check_raises_once_spent_and_when_too_little_is_left():
    clock = FakeClock()
    budget = Deadline(2.0, clock=clock)
    assert budget.check("DynamoDB Query") == 2.0
    with pytest.raises(DeadlineExceeded, match="before DynamoDB PutItem"):
        budget.check("DynamoDB PutItem", needs=3.0)
    clock.now += 2.5
    assert budget.expired()
    with pytest.raises(DeadlineExceeded) as raised:
        budget.check("DynamoDB Query")
    assert isinstance(raised.value, StoreUnavailable)  # answered like an outage: 503 / Close-Failed


def test_within_scopes_the_current_budget():
    clock = FakeClock()
    with deadline.within(Deadline(0.0, clock=clock)):
        assert deadline.remaining_seconds() == 0.0
        with pytest.raises(DeadlineExceeded):
            deadline.check("Bedrock Converse")
    assert deadline.current() is None
