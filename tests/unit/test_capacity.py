"""The item size and billing calculator against DynamoDB's documented rules (Developer Guide examples)."""

from __future__ import annotations

import pytest

from chatstate.store import capacity


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 1),
        ("7", 2),
        ("12", 2),
        ("123", 3),
        ("1000", 2),  # trailing zeros trimmed: one significant digit
        ("0.001", 2),  # leading zeros trimmed
        ("-12.5", 3),
        ("1795843506937", 8),  # a millisecond timestamp: 13 digits
        ("1" * 38, 20),
    ],
)
def test_number_sizes(text: str, size: int) -> None:
    assert capacity.number_size(text) == size


def test_item_size_follows_the_documented_rules() -> None:
    item = {
        "pk": {"S": "A5:alice"},  # name 2 + 8 bytes
        "ünï": {"S": "😀"},  # UTF-8: name 5 + 4 bytes
        "n": {"N": "120"},  # 1 + 2
        "b": {"B": b"\x00\x01\x02"},  # 1 + 3 raw bytes
        "t": {"BOOL": True},  # 1 + 1
        "z": {"NULL": True},  # 1 + 1
        "m": {"M": {"a": {"S": "xy"}, "bb": {"N": "5"}}},  # 1 + 3 + (1 + 2 + 1) + (2 + 2 + 1)
        "l": {"L": [{"S": "abc"}, {"L": []}]},  # 1 + 3 + (3 + 1) + (3 + 1)
    }
    assert capacity.item_size(item) == 10 + 9 + 3 + 4 + 2 + 2 + 13 + 12


@pytest.mark.parametrize(
    ("size", "transactional", "units"),
    [(1, False, 1), (1024, False, 1), (1025, False, 2), (1000, True, 2), (3500, True, 8)],
)
def test_write_units(size: int, transactional: bool, units: int) -> None:
    assert capacity.write_units(size, transactional=transactional) == units


def test_read_units() -> None:
    assert capacity.read_units(4096) == 1
    assert capacity.read_units(4097) == 2
    assert capacity.read_units(4097, consistent=False) == 1
    assert capacity.read_units(100, transactional=True) == 2
    assert capacity.read_units(0) == 1  # a read that finds nothing still costs the minimum
