"""Typed Lex V2 session attributes: a codec between a pydantic model and Lex's string-only map.

Subclass ``SessionAttributes`` with your bot's fields (every field needs a default) and use
``decode`` on the way in and ``encode`` on the way out. The rules:

* **Encoding.** A field typed exactly ``str`` is written as-is. A field typed ``str | None`` whose
  default is ``None`` is written as-is too, and ``None`` omits the key. Every other field
  (``str | None`` with another default included) is written as compact JSON by a per-field
  ``TypeAdapter``, never ``str()``/``repr()``, so every value round-trips exactly across turns.
* **Keys.** The Lex key is the field's ``alias`` when it has one, else its name. Keys must be
  non-empty and unique; ``validation_alias``/``serialization_alias`` that differ from ``alias`` are
  refused when the class is defined.
* **Decoding.** Per field, the first of: the inbound value (if present and valid), the durable
  value (a previous ``to_state()``), the field's default. An inbound value is read as JSON first;
  if that fails, the raw string is validated (so ``es`` typed in the Lex console fits a StrEnum).
  A value that fails both falls back and ``rejected[field]`` says why in a few words, never the
  value (it may be personal data). Invalid durable values are reported with a ``durable:`` prefix.
  Decoding never raises for bad input and always builds a fresh instance (no shared defaults).
* **Model validators.** The decoded values are validated together with ``model_validate``. Fields
  whose inbound value the model rejects fall back one by one; failing that, the durable values
  alone are used, then the defaults (reported under ``rejected["__model__"]``).
* **Server-only fields** (``Annotated[T, ServerOnly()]``) come from the durable state or their
  default, never from Lex: an inbound value is listed in ``ignored`` and dropped. They are written
  to Lex (read-only for the client) unless ``ServerOnly(secret=True)``, which are never written.
* **Extras.** Inbound keys the model does not declare are returned verbatim in ``extras`` and
  written back unchanged by ``encode(extras)``; a declared field's key always wins over an extra.
* **Size.** ``encode`` raises ``AttributesTooLarge`` rather than return a map bigger than Lex's
  12 KB limit (measured as base64 of the map's JSON, as Lex does).
"""

from __future__ import annotations

import json
import threading
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from chatstate.exceptions import ItemTooLarge

__all__ = [
    "LEX_SESSION_ATTRIBUTES_LIMIT",
    "AttributesTooLarge",
    "DecodedAttributes",
    "ServerOnly",
    "SessionAttributes",
    "same_json",
    "secret_fields",
    "server_only_fields",
]

LEX_SESSION_ATTRIBUTES_LIMIT = 12 * 1024
"""Lex's limit on session attributes in a Lambda response, in bytes after base64 of the map's JSON."""

MODEL_KEY = "__model__"
"""The key of ``DecodedAttributes.rejected`` under which model-level validation failures are reported."""

# Error types whose pydantic message never quotes the input: their message is safe to report.
_SAFE_MESSAGE_TYPES = frozenset(
    {
        "bool_parsing", "bool_type", "date_from_datetime_inexact", "date_from_datetime_parsing", "date_future",
        "date_parsing", "date_past", "date_type", "datetime_future", "datetime_parsing", "datetime_past",
        "datetime_type", "decimal_max_digits", "decimal_max_places", "decimal_parsing", "decimal_type",
        "decimal_whole_digits", "dict_type", "enum", "extra_forbidden", "finite_number", "float_parsing",
        "float_type", "frozen_set_type", "greater_than", "greater_than_equal", "int_from_float", "int_parsing",
        "int_parsing_size", "int_type", "is_instance_of", "json_invalid", "json_type", "less_than",
        "less_than_equal", "list_type", "literal_error", "missing", "model_attributes_type", "model_type",
        "multiple_of", "none_required", "set_type", "string_pattern_mismatch", "string_too_long",
        "string_too_short", "string_type", "time_parsing", "time_type", "timezone_aware", "timezone_naive",
        "too_long", "too_short", "tuple_type", "union_tag_not_found",
    }
)  # fmt: skip


class AttributesTooLarge(ItemTooLarge):
    """The encoded session attributes exceed Lex's limit (12 KB after base64); nothing was returned."""


@dataclass(frozen=True)
class ServerOnly:
    """``Annotated`` marker of a field kept server-side: read from durable state only, never from Lex.

    Attributes:
        secret: Also never write the field to Lex (the client cannot read it).
    """

    secret: bool = False


@dataclass(frozen=True)
class DecodedAttributes[A: SessionAttributes]:
    """The result of ``SessionAttributes.decode``.

    Attributes:
        attributes: The decoded model (a fresh instance).
        extras: Inbound keys the model does not declare, verbatim, to echo back to Lex.
        rejected: Field name -> short reason for each value that failed to decode (never the value).
        ignored: Server-only fields that arrived in the inbound map and were not used.
    """

    attributes: A
    extras: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


class _Invalid(Exception):
    """A value failed to decode; ``reason`` never contains the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe(errors: list[Any], prefix: str) -> str:
    """A short reason for pydantic error dicts that never quotes the input."""
    if not errors:
        return prefix
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        return "invalid JSON"
    # Custom validators and some built-in messages can quote the input: report only their type.
    text = first["msg"].removeprefix("Input should be ") if kind in _SAFE_MESSAGE_TYPES else kind
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{prefix}: {text}{more}"


def _reason(exc: ValidationError, prefix: str = "failed validation") -> str:
    """A short reason for a validation error that never quotes the input."""
    return _describe(exc.errors(include_url=False, include_input=False, include_context=False), prefix)


@dataclass(frozen=True, slots=True)
class _FieldCodec:
    name: str
    key: str
    raw: bool  # stored as the string itself (str, or str | None defaulting to None)
    server_only: bool
    secret: bool
    adapter: TypeAdapter[Any]

    def encode(self, value: Any) -> str | None:
        if self.raw:
            text: str | None = value  # a raw field holds a str, or None (checked when the codec is built)
            return text
        return self.adapter.dump_json(value).decode()

    def decode_inbound(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            raise _Invalid("not a string")
        if self.raw:
            try:
                return self.adapter.validate_python(raw)
            except ValidationError as exc:
                raise _Invalid(_reason(exc)) from None
        try:
            return self.adapter.validate_json(raw)
        except ValidationError as exc:
            json_error = exc
        try:  # hand-typed values: "es" for an enum, an ISO date without quotes...
            return self.adapter.validate_python(raw)
        except ValidationError:
            raise _Invalid(_reason(json_error)) from None

    def decode_durable(self, value: Any) -> Any:
        try:
            return self.adapter.validate_python(value)
        except ValidationError as exc:
            error = exc
        try:  # strict fields: accept the JSON form to_state() produced
            return self.adapter.validate_json(json.dumps(value))
        except (TypeError, ValueError):
            pass
        raise _Invalid(_reason(error, "durable: failed validation"))

    def to_state(self, value: Any) -> Any:
        if self.raw:
            return value
        return self.adapter.dump_python(value, mode="json")


@dataclass(frozen=True, slots=True)
class _ClassCodec:
    fields: tuple[_FieldCodec, ...]
    by_key: dict[str, _FieldCodec]

    @property
    def server_only(self) -> frozenset[str]:
        return frozenset(fc.name for fc in self.fields if fc.server_only)

    @property
    def secret(self) -> frozenset[str]:
        return frozenset(fc.name for fc in self.fields if fc.secret)


_CODECS: dict[type, _ClassCodec] = {}
_CODECS_LOCK = threading.Lock()


def _server_only(info: FieldInfo) -> ServerOnly | None:
    """The field's ``ServerOnly`` marker: the one place a marker is read from a field."""
    for item in info.metadata:
        if isinstance(item, ServerOnly):
            return item
    return None


def server_only_fields(model: type[SessionAttributes]) -> frozenset[str]:
    """Names of ``model``'s server-only fields (secret ones included): never set from Lex or an agent."""
    return _codec_for(model).server_only


def secret_fields(model: type[SessionAttributes]) -> frozenset[str]:
    """Names of ``model``'s secret server-only fields: never written to Lex, never shown to a model."""
    return _codec_for(model).secret


_UNION_TYPE = type(int | str)


def _is_raw(info: FieldInfo) -> bool:
    annotation = info.annotation
    if annotation is str:
        return True
    args = typing.get_args(annotation)
    is_optional_str = typing.get_origin(annotation) in (typing.Union, _UNION_TYPE) and set(args) == {str, type(None)}
    return is_optional_str and info.default is None and info.default_factory is None


def _lex_keys(cls: type[SessionAttributes]) -> dict[str, str]:
    """Each field's Lex key, by field name; raises ``TypeError`` for a field the codec cannot carry.

    Reads only what the class statement declares (defaults and aliases), so it runs when the class is defined,
    before any schema is built.
    """
    keys: dict[str, str] = {}
    owners: dict[str, str] = {}  # Lex key -> field name
    for name, info in cls.model_fields.items():
        where = f"{cls.__qualname__}.{name}"
        if info.is_required():
            raise TypeError(f"{where}: every SessionAttributes field needs a default (Lex may send nothing)")
        key = info.alias if info.alias is not None else name
        for other in (info.validation_alias, info.serialization_alias):
            if other is not None and other != key:
                raise TypeError(
                    f"{where}: use Field(alias=...) only; validation/serialization aliases are not supported"
                )
        if not key:
            raise TypeError(f"{where}: the Lex key (alias) must not be empty")
        if key in owners:
            raise TypeError(f"{where}: Lex key {key!r} is already used by field {owners[key]!r}")
        keys[name], owners[key] = key, name
    return keys


def _build_codec(cls: type[SessionAttributes]) -> _ClassCodec:
    if not cls.__pydantic_complete__:
        cls.model_rebuild(raise_errors=True)
    codecs: list[_FieldCodec] = []
    for name, key in _lex_keys(cls).items():
        info = cls.model_fields[name]
        metadata = [m for m in info.metadata if not isinstance(m, ServerOnly)]
        if info.discriminator is not None:
            metadata.append(Field(discriminator=info.discriminator))
        annotation: Any = Annotated[(info.annotation, *metadata)] if metadata else info.annotation
        marker = _server_only(info)
        codecs.append(
            _FieldCodec(
                name=name,
                key=key,
                raw=_is_raw(info),
                server_only=marker is not None,
                secret=bool(marker and marker.secret),
                adapter=TypeAdapter(annotation),
            )
        )
    return _ClassCodec(fields=tuple(codecs), by_key={codec.key: codec for codec in codecs})


def _codec_for(cls: type[SessionAttributes]) -> _ClassCodec:
    codec = _CODECS.get(cls)
    if codec is None:
        with _CODECS_LOCK:
            codec = _CODECS.get(cls)
            if codec is None:
                codec = _CODECS[cls] = _build_codec(cls)
    return codec


def same_json(a: Any, b: Any) -> bool:
    """Equality of JSON-compatible values that does not confuse ``True`` with ``1`` (``1`` and ``1.0`` are equal)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def encoded_size(attributes: Mapping[str, str]) -> int:
    """The size Lex counts for a sessionAttributes map: bytes after base64 of its JSON (UTF-8)."""
    raw = len(json.dumps(attributes, ensure_ascii=False).encode())
    return 4 * ((raw + 2) // 3)


class SessionAttributes(BaseModel):
    """Base class of a bot's typed session attributes; subclass it and declare fields with defaults."""

    model_config = ConfigDict(defer_build=True, extra="forbid", validate_assignment=True)

    size_limit: ClassVar[int] = LEX_SESSION_ATTRIBUTES_LIMIT
    """The most ``encode`` may return, in bytes after base64 (override only to be stricter than Lex)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Check the fields' Lex keys when the class is defined; the codec is compiled on first use."""
        super().__pydantic_init_subclass__(**kwargs)
        _CODECS.pop(cls, None)
        _lex_keys(cls)

    @classmethod
    def compile_codec(cls) -> None:
        """Compile the field codecs now rather than on the first ``decode``/``encode`` (e.g. before a snapshot)."""
        _codec_for(cls)

    @classmethod
    def decode(
        cls, inbound: Mapping[str, str] | None, durable: Mapping[str, Any] | None = None
    ) -> DecodedAttributes[Self]:
        """Decode Lex's sessionAttributes (untrusted) over the durable state; never raises for bad values.

        Args:
            inbound: The event's ``sessionState.sessionAttributes`` (may be ``None`` or empty).
            durable: A previous ``to_state()`` (from the session store), or ``None``.

        Returns:
            The model, undeclared inbound keys, rejected fields with reasons, and ignored server-only keys.
        """
        codec = _codec_for(cls)
        inbound = inbound or {}
        durable = durable or {}
        rejected: dict[str, str] = {}
        ignored: list[str] = []
        from_durable: dict[str, Any] = {}
        values: dict[str, Any] = {}
        from_inbound: set[str] = set()
        for fc in codec.fields:
            if fc.name in durable:
                try:
                    from_durable[fc.name] = fc.decode_durable(durable[fc.name])
                except _Invalid as exc:
                    rejected[fc.name] = exc.reason
            if fc.key in inbound:
                if fc.server_only:
                    ignored.append(fc.name)
                else:
                    try:
                        values[fc.name] = fc.decode_inbound(inbound[fc.key])
                        from_inbound.add(fc.name)
                        continue
                    except _Invalid as exc:
                        rejected[fc.name] = f"{rejected[fc.name]}; {exc.reason}" if fc.name in rejected else exc.reason
            if fc.name in from_durable:
                values[fc.name] = from_durable[fc.name]
        extras = {k: v for k, v in inbound.items() if k not in codec.by_key}
        attributes = cls._assemble(values, from_durable, from_inbound, rejected)
        return DecodedAttributes(attributes=attributes, extras=extras, rejected=rejected, ignored=tuple(ignored))

    @classmethod
    def _assemble(
        cls, values: dict[str, Any], durable: dict[str, Any], from_inbound: set[str], rejected: dict[str, str]
    ) -> Self:
        """Run model-level validation, falling back field by field, then to durable values, then defaults."""
        try:
            return cls.model_validate(values, by_alias=False, by_name=True)
        except ValidationError as exc:
            error = exc
        # Inbound values the model rejects (field validators, model validators naming a field) fall back.
        culprits: dict[str, list[Any]] = {}
        for err in error.errors(include_url=False, include_input=False, include_context=False):
            if err["loc"] and err["loc"][0] in from_inbound:
                culprits.setdefault(str(err["loc"][0]), []).append(err)
        if culprits:
            retry = dict(values)
            for name, errors in culprits.items():
                retry.pop(name)
                if name in durable:
                    retry[name] = durable[name]
                rejected[name] = _describe(errors, "failed model validation")
            try:
                return cls.model_validate(retry, by_alias=False, by_name=True)
            except ValidationError as exc:
                error = exc
        first = _reason(error, "failed model validation")
        if durable:
            try:
                instance = cls.model_validate(durable, by_alias=False, by_name=True)
            except ValidationError:
                pass
            else:
                rejected[MODEL_KEY] = f"{first}; using durable values"
                return instance
        try:
            instance = cls.model_validate({}, by_alias=False, by_name=True)
        except ValidationError as exc:
            raise TypeError(f"{cls.__qualname__}: the defaults fail model validation: {_reason(exc)}") from exc
        rejected[MODEL_KEY] = f"{first}; using defaults"
        return instance

    def encode(self, extras: Mapping[str, str] | None = None) -> dict[str, str]:
        """The Lex ``sessionAttributes`` map: extras (verbatim) overlaid with this model's fields.

        Secret server-only fields are never written; a declared field's key always wins over an
        extra (an extra under a secret or omitted field's key is dropped).

        Raises:
            AttributesTooLarge: The map exceeds Lex's limit (12 KB after base64).
        """
        codec = _codec_for(type(self))
        out: dict[str, str] = {}
        if extras:
            for key, value in extras.items():
                if not isinstance(key, str) or not key or not isinstance(value, str):
                    raise TypeError("extras must map non-empty strings to strings")
                if key not in codec.by_key:
                    out[key] = value
        for fc in codec.fields:
            if fc.secret:
                continue
            encoded = fc.encode(getattr(self, fc.name))
            if encoded is not None:
                out[fc.key] = encoded
        size = encoded_size(out)
        limit = type(self).size_limit
        if size > limit:
            largest = sorted(out, key=lambda k: len(out[k]), reverse=True)[:3]
            raise AttributesTooLarge(
                f"session attributes are {size} bytes after base64; Lex's limit is {limit} bytes "
                f"(largest keys: {', '.join(largest)})",
                size=size,
                limit=limit,
            )
        return out

    def to_state(self) -> dict[str, Any]:
        """Every field (server-only ones included) as a JSON-compatible value, for durable storage."""
        return {fc.name: fc.to_state(getattr(self, fc.name)) for fc in _codec_for(type(self)).fields}

    def state_changes(self, before: Mapping[str, Any] | None) -> dict[str, Any]:
        """The ``to_state()`` entries that differ from ``before`` (a previous ``to_state()``)."""
        state = self.to_state()
        if not before:
            return state
        return {k: v for k, v in state.items() if k not in before or not same_json(v, before[k])}
