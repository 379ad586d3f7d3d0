"""Unit tests of the typed Lex session-attribute codec (chatstate.attributes)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from chatstate.attributes import (
    LEX_SESSION_ATTRIBUTES_LIMIT,
    AttributesTooLarge,
    DecodedAttributes,
    ServerOnly,
    SessionAttributes,
    encoded_size,
)
from chatstate.exceptions import ChatSessionError, ItemTooLarge


class Lang(StrEnum):
    EN = "en"
    ES = "es"


class Color(Enum):
    RED = "red"
    BLUE = 2


class Tier(IntEnum):
    FREE = 0
    GOLD = 2


class Booking(BaseModel):
    origin: str
    when: date
    seats: int = 1


class Attrs(SessionAttributes):
    name: str = ""
    nickname: str | None = None
    lang: Lang = Lang.EN
    visits: int = Field(default=0, ge=0)
    score: float = 0.0
    vip: bool = False
    tags: list[str] = Field(default_factory=list)
    booking: Booking | None = None
    authenticated: Annotated[bool, ServerOnly()] = False
    api_token: Annotated[str | None, ServerOnly(secret=True)] = None


def roundtrip(model: SessionAttributes) -> SessionAttributes:
    decoded = type(model).decode(model.encode())
    assert decoded.rejected == {}
    return decoded.attributes


# --------------------------------------------------------------------------------------------------
# Round trips: every type survives encode -> decode exactly, across turns
# --------------------------------------------------------------------------------------------------

NAIVE = datetime(2024, 2, 29, 23, 59, 58, 123456)
AWARE = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))

ROUNDTRIP_CASES: list[tuple[Any, Any]] = [
    (str, ""),
    (str, "plain"),
    (str, "héllo wörld ✓ 日本語 🎉"),
    (str, "123"),
    (str, "true"),
    (str, "null"),
    (str, '"x"'),
    (str, '{"a": 1}'),
    (str, "[1, 2]"),
    (str, "  spaced  \n"),
    (str | None, None),
    (str | None, ""),
    (str | None, "null"),
    (str | None, "123"),
    (Optional[str], "x"),  # noqa: UP045 - the typing spelling must behave the same
    (int, 0),
    (int, -7),
    (int, 2**62),
    (float, 0.1),
    (float, 1e-7),
    (float, 1.7976931348623157e308),
    (float, -0.0),
    (float, 123456789.123456789),
    (float, 3.0),
    (bool, True),
    (bool, False),
    (Lang, Lang.ES),
    (Color, Color.BLUE),
    (Color, Color.RED),
    (Tier, Tier.GOLD),
    (datetime, NAIVE),
    (datetime, AWARE),
    (datetime, datetime(2024, 1, 1, tzinfo=UTC)),
    (date, date(1999, 12, 31)),
    (int | None, None),
    (int | None, 5),
    (Lang | None, Lang.EN),
    (list[int], []),
    (list[int], [3, 1, 2]),
    (list[str], ["a", "", "ü", "null", "1"]),
    (tuple[int, str], (1, "x")),
    (tuple[int, ...], (1, 2, 3)),
    (dict[str, int], {"a": 1, "": 0, "ñ": -1}),
    (dict[str, Any], {"nested": {"list": [1, "two", None, True, 1.5]}}),
    (dict[int, str], {1: "one", 2: "two"}),
    (set[str], {"a", "b", "ç"}),
    (frozenset[int], frozenset({1, 2, 3})),
    (Booking, Booking(origin="Paris", when=date(2025, 6, 1), seats=2)),
    (list[Booking], [Booking(origin="A", when=date(2025, 1, 1)), Booking(origin="B", when=date(2025, 1, 2))]),
    (Literal["a", "b"], "b"),
    (Literal[1, 2], 2),
    (Decimal, Decimal("1.10")),
    (Annotated[int, Field(le=5)], 5),
    (str | int, "123"),
    (str | int, 123),
]


def _model_for(annotation: Any, default: Any) -> type[SessionAttributes]:
    class Single(SessionAttributes):
        value: annotation = Field(default=default)

    return Single


def _default_for(annotation: Any, value: Any) -> Any:
    # any valid default works; reuse the value itself (pydantic copies mutable defaults)
    return value


@pytest.mark.parametrize(("annotation", "value"), ROUNDTRIP_CASES, ids=[repr(v)[:40] for _, v in ROUNDTRIP_CASES])
def test_every_type_round_trips_exactly(annotation: Any, value: Any) -> None:
    cls = _model_for(annotation, None)
    model = cls(value=value)
    encoded = model.encode()
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in encoded.items())
    # two turns, to catch drift
    turn1 = cls.decode(encoded)
    turn2 = cls.decode(turn1.attributes.encode())
    for decoded in (turn1, turn2):
        assert decoded.rejected == {}
        got = decoded.attributes.value
        assert got == value
        assert type(got) is type(value)
        if isinstance(value, datetime):
            assert got.utcoffset() == value.utcoffset()
        if isinstance(value, list | tuple | dict):
            assert json.dumps(got, default=str) == json.dumps(value, default=str)  # order and element types


@pytest.mark.parametrize(("annotation", "value"), ROUNDTRIP_CASES, ids=[repr(v)[:40] for _, v in ROUNDTRIP_CASES])
def test_every_type_round_trips_through_durable_state(annotation: Any, value: Any) -> None:
    cls = _model_for(annotation, None)
    state = cls(value=value).to_state()
    assert json.loads(json.dumps(state)) == state  # JSON-compatible
    decoded = cls.decode(None, json.loads(json.dumps(state)))
    assert decoded.rejected == {}
    assert decoded.attributes.value == value
    assert type(decoded.attributes.value) is type(value)


@pytest.mark.parametrize("value", ["123", "true", "null", '"x"', "", "[1]", "{}", "1e5", " 7 "])
def test_str_fields_are_stored_as_is_never_as_json(value: str) -> None:
    model = Attrs(name=value, nickname=value)
    encoded = model.encode()
    assert encoded["name"] == value
    assert encoded["nickname"] == value
    decoded = Attrs.decode(encoded).attributes
    assert decoded.name == value
    assert decoded.nickname == value


def test_non_str_fields_are_compact_json_never_str_or_repr() -> None:
    model = Attrs(
        lang=Lang.ES,
        visits=3,
        score=0.1,
        vip=True,
        tags=["a", "b"],
        booking=Booking(origin="Oslo", when=date(2025, 5, 17)),
    )
    encoded = model.encode()
    assert encoded["lang"] == '"es"'
    assert encoded["visits"] == "3"
    assert encoded["score"] == "0.1"
    assert encoded["vip"] == "true"
    assert encoded["tags"] == '["a","b"]'
    assert encoded["booking"] == '{"origin":"Oslo","when":"2025-05-17","seats":1}'


def test_optional_str_none_omits_the_key() -> None:
    encoded = Attrs(nickname=None).encode()
    assert "nickname" not in encoded
    assert Attrs.decode(encoded).attributes.nickname is None


def test_optional_str_with_non_none_default_uses_json_so_none_survives() -> None:
    class WithDefault(SessionAttributes):
        greeting: str | None = "hello"

    encoded = WithDefault(greeting=None).encode()
    assert encoded == {"greeting": "null"}
    assert WithDefault.decode(encoded).attributes.greeting is None
    assert WithDefault(greeting="null").encode() == {"greeting": '"null"'}
    assert WithDefault.decode(WithDefault(greeting="null").encode()).attributes.greeting == "null"
    # hand-typed (unquoted) values are still accepted
    assert WithDefault.decode({"greeting": "hi there"}).attributes.greeting == "hi there"


def test_multi_turn_conversation_keeps_every_value() -> None:
    model = Attrs(name="Zoë", lang=Lang.ES, visits=1, tags=["x"], booking=Booking(origin="Rome", when=date(2025, 1, 2)))
    wire = model.encode({"clientKey": "v"})
    for _ in range(5):
        decoded = Attrs.decode(wire)
        decoded.attributes.visits += 1
        wire = decoded.attributes.encode(decoded.extras)
    final = Attrs.decode(wire)
    assert final.attributes.visits == 6
    assert final.attributes.name == "Zoë"
    assert final.attributes.booking == model.booking
    assert final.extras == {"clientKey": "v"}


# --------------------------------------------------------------------------------------------------
# Decoding: lenient, per-field fallback, never raises
# --------------------------------------------------------------------------------------------------


def test_hand_typed_values_are_accepted_when_the_field_takes_strings() -> None:
    class Console(SessionAttributes):
        lang: Lang = Lang.EN
        when: date | None = None
        at: datetime | None = None
        choice: Literal["a", "b"] = "a"

    decoded = Console.decode({"lang": "es", "when": "2025-03-04", "at": "2025-03-04T05:06:07Z", "choice": "b"})
    assert decoded.rejected == {}
    assert decoded.attributes.lang is Lang.ES
    assert decoded.attributes.when == date(2025, 3, 4)
    assert decoded.attributes.at == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert decoded.attributes.choice == "b"


def test_source_order_inbound_then_durable_then_default() -> None:
    durable = Attrs(name="durable", visits=7, tags=["d"]).to_state()
    decoded = Attrs.decode({"name": "inbound"}, durable)
    assert decoded.attributes.name == "inbound"  # inbound wins
    assert decoded.attributes.visits == 7  # inbound absent -> durable
    assert decoded.attributes.tags == ["d"]
    assert decoded.attributes.score == 0.0  # neither -> default
    assert decoded.rejected == {}


def test_invalid_inbound_falls_back_to_durable_and_is_reported() -> None:
    durable = Attrs(visits=7).to_state()
    decoded = Attrs.decode({"visits": "-3"}, durable)
    assert decoded.attributes.visits == 7
    assert decoded.rejected == {"visits": "failed validation: greater than or equal to 0"}


def test_invalid_inbound_without_durable_falls_back_to_default() -> None:
    decoded = Attrs.decode({"visits": "lots", "tags": "[1,", "name": "ok"})
    assert decoded.attributes.visits == 0
    assert decoded.attributes.tags == []
    assert decoded.attributes.name == "ok"  # other fields are kept: never a silent wipe
    assert decoded.rejected == {"visits": "invalid JSON", "tags": "invalid JSON"}


def test_rejection_reasons_never_contain_the_value() -> None:
    class Strict(SessionAttributes):
        pin: int = 0
        code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "AAA"
        kind: Literal["a", "b"] = "a"
        when: date | None = None
        items: list[int] = Field(default_factory=list)

        @field_validator("items")
        @classmethod
        def _check(cls, value: list[int]) -> list[int]:
            if 424242 in value:
                raise ValueError(f"bad value {value}")
            return value

    secret = "4111-1111-SECRET"
    decoded = Strict.decode(
        {"pin": secret, "code": secret, "kind": secret, "when": secret, "items": "[424242]"},
        {"pin": secret},
    )
    assert set(decoded.rejected) == {"pin", "code", "kind", "when", "items"}
    for reason in decoded.rejected.values():
        assert secret not in reason
        assert "4111" not in reason
        assert "424242" not in reason
    assert decoded.rejected["pin"].startswith("durable: ")


@pytest.mark.parametrize(
    "inbound",
    [
        {"visits": "\x00\xff"},
        {"booking": '{"origin": 5}'},
        {"booking": "null"},
        {"tags": '{"a": 1}'},
        {"lang": '"xx"'},
        {"vip": "maybe"},
        {"score": "NaN-ish"},
        {"visits": "1" * 5000},
        {"visits": "[" * 10000},
        {"name": 5},
        {"tags": None},
        {"": "empty key"},
    ],
)
def test_decoding_never_raises_on_nonsense(inbound: dict[str, Any]) -> None:
    decoded = Attrs.decode(inbound)
    assert isinstance(decoded, DecodedAttributes)
    assert isinstance(decoded.attributes, Attrs)


def test_missing_or_empty_inbound_gives_defaults_or_durable() -> None:
    for inbound in (None, {}):
        decoded = Attrs.decode(inbound)
        assert decoded.attributes == Attrs()
        assert decoded.extras == {}
        assert decoded.rejected == {}
        assert decoded.ignored == ()
    assert Attrs.decode(None, Attrs(name="kept").to_state()).attributes.name == "kept"


def test_every_decode_returns_a_fresh_instance_with_independent_defaults() -> None:
    class Shared(SessionAttributes):
        items: list[str] = []
        mapping: dict[str, int] = {}
        made: list[int] = Field(default_factory=list)

    first = Shared.decode(None).attributes
    first.items.append("leak")
    first.mapping["leak"] = 1
    first.made.append(1)
    second = Shared.decode({}).attributes
    assert second is not first
    assert second.items == []
    assert second.mapping == {}
    assert second.made == []
    durable = Shared(items=["d"]).to_state()
    third = Shared.decode(None, durable).attributes
    third.items.append("leak")
    assert Shared.decode(None, durable).attributes.items == ["d"]
    assert durable == {"items": ["d"], "mapping": {}, "made": []}


def test_caller_mappings_are_not_mutated() -> None:
    inbound = {"name": "x", "visits": "-1", "authenticated": "true", "other": "y"}
    durable = Attrs(tags=["a"]).to_state()
    inbound_copy, durable_copy = dict(inbound), json.loads(json.dumps(durable))
    Attrs.decode(inbound, durable)
    assert inbound == inbound_copy
    assert durable == durable_copy


def test_invalid_durable_values_fall_back_to_defaults_and_are_reported() -> None:
    decoded = Attrs.decode(None, {"visits": -5, "tags": "not a list", "name": 12, "unknown_old_field": 1})
    assert decoded.attributes.visits == 0
    assert decoded.attributes.tags == []
    assert decoded.attributes.name == ""
    assert set(decoded.rejected) == {"visits", "tags", "name"}
    assert all(reason.startswith("durable: ") for reason in decoded.rejected.values())


def test_valid_inbound_is_used_even_when_durable_is_invalid() -> None:
    decoded = Attrs.decode({"visits": "4"}, {"visits": "garbage"})
    assert decoded.attributes.visits == 4
    assert decoded.rejected["visits"].startswith("durable: ")


# --------------------------------------------------------------------------------------------------
# Model-level validation
# --------------------------------------------------------------------------------------------------


class Range(SessionAttributes):
    low: int = 0
    high: int = 10
    label: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


def test_model_validator_failure_falls_back_to_durable_values() -> None:
    durable = Range(low=1, high=5, label="d").to_state()
    decoded = Range.decode({"low": "9", "high": "2", "label": "x"}, durable)
    assert (decoded.attributes.low, decoded.attributes.high, decoded.attributes.label) == (1, 5, "d")
    assert decoded.rejected["__model__"].endswith("using durable values")
    assert "value_error" in decoded.rejected["__model__"]


def test_model_validator_failure_falls_back_to_defaults_without_durable() -> None:
    decoded = Range.decode({"low": "9", "high": "2"})
    assert decoded.attributes == Range()
    assert decoded.rejected["__model__"].endswith("using defaults")


def test_model_validator_failure_with_bad_durable_falls_back_to_defaults() -> None:
    decoded = Range.decode({"low": "9"}, {"low": 20, "high": 3})
    assert decoded.attributes == Range()
    assert decoded.rejected["__model__"].endswith("using defaults")


def test_field_validator_rejection_falls_back_for_that_field_only() -> None:
    class Checked(SessionAttributes):
        city: str = "Paris"
        count: int = 0

        @field_validator("city")
        @classmethod
        def _known(cls, value: str) -> str:
            if value not in {"Paris", "Rome"}:
                raise ValueError("unknown city")
            return value

    decoded = Checked.decode({"city": "Atlantis", "count": "3"}, {"city": "Rome"})
    assert decoded.attributes.city == "Rome"
    assert decoded.attributes.count == 3
    assert decoded.rejected == {"city": "failed model validation: value_error"}


def test_defaults_that_fail_model_validation_are_a_programming_error() -> None:
    class Broken(SessionAttributes):
        a: int = 5

        @model_validator(mode="after")
        def _never(self) -> Broken:
            raise ValueError("never valid")

    with pytest.raises(TypeError, match="defaults fail model validation"):
        Broken.decode(None)


# --------------------------------------------------------------------------------------------------
# Extras, server-only fields, secrets
# --------------------------------------------------------------------------------------------------


def test_undeclared_keys_are_preserved_verbatim_and_echoed() -> None:
    inbound = {"name": "Al", "x-client": '{"not": "parsed"}', "weird key ✓": "", "visits": "2"}
    decoded = Attrs.decode(inbound)
    assert decoded.extras == {"x-client": '{"not": "parsed"}', "weird key ✓": ""}
    encoded = decoded.attributes.encode(decoded.extras)
    assert encoded["x-client"] == '{"not": "parsed"}'
    assert encoded["weird key ✓"] == ""
    assert encoded["name"] == "Al"


def test_declared_field_wins_over_an_extra_with_the_same_key() -> None:
    encoded = Attrs(name="field", visits=3).encode({"name": "extra", "visits": "99", "other": "o"})
    assert encoded["name"] == "field"
    assert encoded["visits"] == "3"
    assert encoded["other"] == "o"


def test_extras_under_omitted_or_secret_keys_are_dropped() -> None:
    encoded = Attrs(nickname=None).encode({"nickname": "stale", "api_token": "leaked"})
    assert "nickname" not in encoded
    assert "api_token" not in encoded


def test_extras_must_be_strings() -> None:
    with pytest.raises(TypeError):
        Attrs().encode({"k": 1})
    with pytest.raises(TypeError):
        Attrs().encode({"": "v"})


def test_server_only_fields_are_never_read_from_inbound() -> None:
    durable = Attrs(authenticated=False, api_token="srv").to_state()
    inbound = {"authenticated": "true", "api_token": "client-forged", "name": "Eve"}
    decoded = Attrs.decode(inbound, durable)
    assert decoded.attributes.authenticated is False
    assert decoded.attributes.api_token == "srv"
    assert decoded.attributes.name == "Eve"
    assert set(decoded.ignored) == {"authenticated", "api_token"}
    assert "authenticated" not in decoded.extras
    assert "api_token" not in decoded.extras
    assert decoded.rejected == {}


def test_server_only_fields_come_from_durable_then_default() -> None:
    assert Attrs.decode(None, Attrs(authenticated=True).to_state()).attributes.authenticated is True
    assert Attrs.decode({"authenticated": "true"}).attributes.authenticated is False


def test_secret_fields_are_never_encoded_non_secret_server_only_are() -> None:
    model = Attrs(authenticated=True, api_token="s3cr3t")
    encoded = model.encode()
    assert encoded["authenticated"] == "true"  # readable by the client
    assert "api_token" not in encoded
    assert "s3cr3t" not in json.dumps(encoded)
    state = model.to_state()
    assert state["api_token"] == "s3cr3t"  # durable storage keeps it
    assert state["authenticated"] is True


# --------------------------------------------------------------------------------------------------
# Size limit
# --------------------------------------------------------------------------------------------------


def _lex_size(attrs: dict[str, str]) -> int:
    # exactly how devtools/lex_validator.py measures it (docs/lex-v2.md R5)
    return len(base64.b64encode(json.dumps(attrs, ensure_ascii=False).encode("utf-8")))


def test_encoded_size_matches_the_validator() -> None:
    for attrs in ({}, {"a": "b"}, {"ü": "日本語" * 10, "x": '"q"'}, {"k": "v" * 1000}):
        assert encoded_size(attrs) == _lex_size(attrs)


def test_oversize_map_raises_instead_of_being_returned() -> None:
    model = Attrs(tags=["x" * 100] * 100)
    with pytest.raises(AttributesTooLarge) as info:
        model.encode()
    err = info.value
    assert isinstance(err, ItemTooLarge)
    assert isinstance(err, ChatSessionError)
    assert err.limit == LEX_SESSION_ATTRIBUTES_LIMIT == 12 * 1024
    assert err.size is not None
    assert err.size > err.limit
    assert "12288" in str(err)
    assert str(err.size) in str(err)


def test_extras_count_towards_the_size_limit() -> None:
    with pytest.raises(AttributesTooLarge):
        Attrs().encode({"big": "é" * 6000})


def test_map_just_under_the_limit_is_returned() -> None:
    # find the largest name that fits, then check the boundary both ways
    base = Attrs().encode()
    overhead = len(json.dumps({**base, "name": ""}, ensure_ascii=False).encode())
    fit = (LEX_SESSION_ATTRIBUTES_LIMIT // 4) * 3 - overhead
    encoded = Attrs(name="n" * fit).encode()
    assert _lex_size(encoded) <= LEX_SESSION_ATTRIBUTES_LIMIT
    with pytest.raises(AttributesTooLarge):
        Attrs(name="n" * (fit + 1)).encode()


# --------------------------------------------------------------------------------------------------
# Keys and aliases; class-definition checks
# --------------------------------------------------------------------------------------------------


def test_alias_is_the_lex_key() -> None:
    class Aliased(SessionAttributes):
        user_name: str = Field(default="", alias="userName")
        visit_count: int = Field(default=0, alias="visitCount")
        secret: Annotated[str, ServerOnly()] = Field(default="", alias="srv")

    model = Aliased.model_validate({"userName": "A", "visitCount": 2})
    encoded = model.encode({"user_name": "extra under the field name"})
    assert encoded == {"userName": "A", "visitCount": "2", "srv": "", "user_name": "extra under the field name"}
    decoded = Aliased.decode({"userName": "B", "visitCount": "5", "user_name": "x", "srv": "forged"})
    assert decoded.attributes.user_name == "B"
    assert decoded.attributes.visit_count == 5
    assert decoded.attributes.secret == ""
    assert decoded.extras == {"user_name": "x"}
    assert decoded.ignored == ("secret",)
    # durable state is keyed by field name
    assert model.to_state() == {"user_name": "A", "visit_count": 2, "secret": ""}
    assert Aliased.decode(None, model.to_state()).attributes.user_name == "A"


def test_required_fields_are_refused_at_class_definition() -> None:
    with pytest.raises(TypeError, match="needs a default"):

        class NoDefault(SessionAttributes):
            name: str


def test_colliding_keys_are_refused() -> None:
    with pytest.raises(TypeError, match="already used"):

        class Clash(SessionAttributes):
            a: str = ""
            b: str = Field(default="", alias="a")


def test_empty_alias_is_refused() -> None:
    with pytest.raises(TypeError, match="must not be empty"):

        class Empty(SessionAttributes):
            a: str = Field(default="", alias="")


def test_validation_aliases_are_refused() -> None:
    with pytest.raises(TypeError, match="aliases are not supported"):

        class Choices(SessionAttributes):
            a: str = Field(default="", validation_alias="b")


def test_forward_references_are_resolved_lazily() -> None:
    class Later(SessionAttributes):
        item: Item | None = None

    class Item(BaseModel):
        n: int

    Later.model_rebuild(_types_namespace={"Item": Item})
    model = Later(item=Item(n=3))
    assert Later.decode(model.encode()).attributes.item == Item(n=3)


def test_assignment_is_validated() -> None:
    model = Attrs()
    with pytest.raises(ValidationError):
        model.visits = -1


# --------------------------------------------------------------------------------------------------
# to_state / state_changes
# --------------------------------------------------------------------------------------------------


def test_to_state_is_json_compatible_and_includes_every_field() -> None:
    model = Attrs(
        lang=Lang.ES,
        booking=Booking(origin="X", when=date(2025, 1, 1)),
        authenticated=True,
        api_token="t",
    )
    state = model.to_state()
    assert set(state) == set(Attrs.model_fields)
    assert json.loads(json.dumps(state)) == state
    assert state["lang"] == "es"
    assert state["booking"] == {"origin": "X", "when": "2025-01-01", "seats": 1}


def test_state_changes_lists_only_changed_fields() -> None:
    before = Attrs(name="a", visits=1, tags=["x"]).to_state()
    model = Attrs.decode(None, before).attributes
    assert model.state_changes(before) == {}
    model.visits = 2
    model.tags.append("y")
    assert model.state_changes(before) == {"visits": 2, "tags": ["x", "y"]}
    assert model.state_changes(None) == model.to_state()
    assert model.state_changes({}) == model.to_state()
    assert model.state_changes({"name": "a"})["visits"] == 2  # missing keys count as changed


def test_state_changes_does_not_confuse_true_with_one() -> None:
    class Mixed(SessionAttributes):
        v: int | bool = 1
        nested: dict[str, Any] = Field(default_factory=dict)

    before = Mixed(v=1, nested={"k": 1}).to_state()
    assert Mixed(v=True, nested={"k": True}).state_changes(before) == {"v": True, "nested": {"k": True}}
    assert Mixed(v=1, nested={"k": 1.0}).state_changes(before) == {}


# --------------------------------------------------------------------------------------------------
# Performance and import cost
# --------------------------------------------------------------------------------------------------


def test_decode_and_encode_cost_microseconds() -> None:
    wire = Attrs(name="n", lang=Lang.ES, visits=3, tags=["a", "b"], booking=Booking(origin="O", when=date(2025, 1, 1)))
    encoded = wire.encode({"extra": "e"})
    durable = wire.to_state()
    Attrs.decode(encoded, durable)  # warm
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        decoded = Attrs.decode(encoded, durable)
        decoded.attributes.encode(decoded.extras)
    per_round = (time.perf_counter() - start) / rounds
    assert per_round < 500e-6, f"{per_round * 1e6:.0f} µs per decode+encode"


def test_import_is_cheap_and_does_not_load_boto3() -> None:
    layer = Path(__file__).resolve().parents[2] / "layers" / "chatstate"
    code = "import sys, chatstate.attributes; print('boto3' in sys.modules or 'botocore' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(layer)}
    )
    assert result.stdout.strip() == "False"


def test_the_base_class_alone_echoes_everything_as_extras() -> None:
    decoded = SessionAttributes.decode({"a": "1", "b": "x"}, {"ignored": 1})
    assert decoded.extras == {"a": "1", "b": "x"}
    assert decoded.attributes.encode(decoded.extras) == {"a": "1", "b": "x"}
    assert decoded.attributes.to_state() == {}
