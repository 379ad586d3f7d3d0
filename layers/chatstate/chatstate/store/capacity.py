"""DynamoDB item sizes and billed capacity units, by DynamoDB's published rules (pure functions).

The one place these rules live: the store uses ``item_size`` to refuse an item over the 400 KB
limit before sending it, and the benchmark uses all of them to turn the items a call really
wrote or read into billed units. Rules (DynamoDB Developer Guide, "Item sizes and formats" and
"Read/write capacity mode"):

* an item's size is the sum of its attribute names' and values' sizes (UTF-8 bytes);
* a string is its UTF-8 bytes, a binary its raw bytes, a boolean or null 1 byte;
* a number is 1 byte per two significant digits (leading and trailing zeros trimmed) plus 1 byte;
* a list or map is 3 bytes plus, per element, the element's size plus 1 byte (map keys count);
* a write costs 1 WCU per started KB of each item (an update: the larger of the old and new
  images), and twice that inside a transaction;
* a read costs 1 RCU per started 4 KB of the summed sizes of the items a call returns (a Query sums
  every item it reads), half of it when eventually consistent, twice it inside a transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

MAX_ITEM_BYTES = 400 * 1024
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number given as its decimal text (``"1200"``, ``"-0.050"``, ``"1E+5"``)."""
    mantissa = text.strip().lstrip("+-").lower().split("e", 1)[0]
    digits = mantissa.replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in the low-level wire form (``{"S": "..."}``, ``{"M": {...}}``...)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "NS":
        return sum(number_size(v) for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes DynamoDB counts for an item: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> int:
    """WCU billed for writing one item of ``size`` bytes (for an update pass the larger image)."""
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


def read_units(total_size: int, *, consistent: bool = True, transactional: bool = False) -> float:
    """RCU billed for one read call returning items of ``total_size`` summed bytes."""
    units = float(max(1, math.ceil(total_size / READ_UNIT_BYTES)))
    if transactional:
        return 2 * units
    return units if consistent else units / 2


def items_size(items: Iterable[Mapping[str, Mapping[str, Any]]]) -> int:
    """Summed size of several items (what a Query bills for)."""
    return sum(item_size(item) for item in items)
