"""A verified user's cross-channel profile: its schema and the store that keeps one per user.

* **Schema.** ``Profile``/``ProfilePatch`` are the one schema both functions use (the chat API validates
  ``PATCH /profile`` with it). A bot marks a ``SessionAttributes`` field ``Annotated[..., Shared()]`` to keep
  it in the user's profile (same field name as here); to share another field, add it to ``Profile`` and mark
  it on the bot.
* **Store.** A ``ProfileStore`` keeps one profile per verified user (the Cognito ``sub``) as that user's props
  (``chatstate.store.props``): the ``U…`` key space, which no session or actor id can reach. A profile lives
  ``ttl_seconds`` after its last change (365 days by default); an expired profile is absent on every read, and
  a merge into it starts from nothing. The adapters only choose the props backend: ``DynamoDBProfileStore``
  (the session table: ``get`` one GetItem, ``merge`` one UpdateItem, plus a conditional write only when an
  expired profile still lingers, so its old fields never come back) and ``InMemoryProfileStore`` (the twin).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from chatstate.models import ActorId, utc_now
from chatstate.store.props import InMemoryPropsStore, PropsStore

if TYPE_CHECKING:
    from chatstate.store.props_dynamodb import DynamoDBPropsStore

__all__ = [
    "LANGUAGES",
    "PROFILE_TTL_SECONDS",
    "DynamoDBProfileStore",
    "InMemoryProfileStore",
    "LanguageCode",
    "Profile",
    "ProfileName",
    "ProfilePatch",
    "ProfileStore",
    "Shared",
    "check_subject",
    "profile_fields",
    "valid_changes",
]

# -- the schema ---------------------------------------------------------------------------------------
ProfileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LanguageCode = Literal["en", "es", "fr", "de", "it"]
"""The languages the bot speaks (ISO 639-1, lower case); a profile holds no other."""
LANGUAGES: tuple[str, ...] = get_args(LanguageCode)


class Profile(BaseModel):
    """A user's profile. Every field is optional; ``None`` means unset."""

    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True, frozen=True)

    name: ProfileName | None = None
    language: LanguageCode | None = None

    def fields(self) -> dict[str, Any]:
        """The set fields, JSON-compatible."""
        return self.model_dump(mode="json", exclude_none=True)


class ProfilePatch(Profile):
    """A merge: the fields present are set (``null`` clears one); unknown or mistyped fields are refused."""

    def changes(self) -> dict[str, Any]:
        """``{field: value or None}`` for every field the patch names."""
        dumped = self.model_dump(mode="json")
        return {name: dumped[name] for name in self.model_fields_set}


def profile_fields() -> frozenset[str]:
    """The field names a profile may hold."""
    return frozenset(Profile.model_fields)


def valid_changes(changes: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The changes that fit the profile schema, and the names of those that do not (each checked alone)."""
    good: dict[str, Any] = {}
    bad: list[str] = []
    for name, value in changes.items():
        try:
            good.update(ProfilePatch.model_validate({name: value}).changes())
        except ValueError:
            bad.append(name)
    return good, bad


@dataclass(frozen=True)
class Shared:
    """``Annotated`` marker of a bot attribute kept in the verified user's profile (same field name)."""


# -- the store ----------------------------------------------------------------------------------------
PROFILE_TTL_SECONDS = 365 * 86_400
"""Default lifetime of a profile after its last change."""

_SUBJECT: TypeAdapter[str] = TypeAdapter(ActorId)


def check_subject(subject: str) -> str:
    """``subject`` if it is a usable id (1..256 characters, no control characters), else ``ValueError``."""
    try:
        return _SUBJECT.validate_python(subject)
    except ValidationError:
        raise ValueError("the profile subject is not a valid id") from None


class ProfileStore:
    """Profiles by verified subject, on a ``PropsStore`` whose user props expire.

    Args:
        props: Where the profiles live (its ``ttl_seconds`` is the profiles' lifetime).
    """

    def __init__(self, props: PropsStore) -> None:
        if not props.ttl_seconds or props.ttl_seconds < 60:
            raise ValueError("profiles need a lifetime of at least 60 seconds")
        self.props = props

    @property
    def ttl_seconds(self) -> int:
        """Lifetime of a profile after its last change."""
        return int(self.props.ttl_seconds or 0)

    def get(self, subject: str) -> dict[str, Any]:
        """The live profile's fields (``{}`` when there is none or it expired)."""
        return self.props.get_user_props(check_subject(subject))

    def delete(self, subject: str) -> bool:
        """Erase the profile (idempotent); whether a live one existed."""
        return self.props.delete_user_props(check_subject(subject))

    def merge(self, subject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Set ``fields`` (a ``None`` value removes the field) atomically; returns the merged profile.

        Concurrent merges of different fields all survive. Values must be JSON-compatible. A merge that
        sets nothing and clears nothing present writes nothing (one read).

        Raises:
            ConflictError: the profile kept changing (expired-item races only).
            StoreUnavailable: the store is throttled or unreachable (or the deadline is spent).
        """
        subject = check_subject(subject)
        values = {name: value for name, value in fields.items() if value is not None}
        remove = [name for name, value in fields.items() if value is None]
        if not values:  # nothing to set: write only if a field to clear is there (no empty profile is created)
            current = self.props.get_user_props(subject)
            if not any(name in current for name in remove):
                return current
        return self.props.merge_user_props(subject, values, remove=remove)


class DynamoDBProfileStore(ProfileStore):
    """A ``ProfileStore`` on the session table: a profile is the user's props item (``pk`` ``U<sub>``, ``sk`` ``~``).

    Args:
        table_name: The table (``SESSION_TABLE_NAME``).
        client: A ready ``dynamodb`` client (e.g. the session store's); otherwise one is created lazily.
        ttl_seconds: Lifetime of a profile after its last change.
        now: The clock (tests inject one).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        ttl_seconds: int = PROFILE_TTL_SECONDS,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        from chatstate.store.props_dynamodb import DynamoDBPropsStore  # a bot's attributes import Shared only

        table: DynamoDBPropsStore = DynamoDBPropsStore(table_name, client=client, ttl_seconds=ttl_seconds, now=now)
        super().__init__(table)
        self.table = table
        self.table_name = table_name

    @property
    def client(self) -> Any:
        """The DynamoDB client (created on first use when none was given)."""
        return self.table.client


class InMemoryProfileStore(ProfileStore):
    """Profiles on an ``InMemoryPropsStore``: same behaviour as the DynamoDB adapter (expiry included).

    Args:
        ttl_seconds: Lifetime of a profile after its last change.
        now: The clock (tests inject one).
    """

    def __init__(self, *, ttl_seconds: int = PROFILE_TTL_SECONDS, now: Callable[[], datetime] = utc_now) -> None:
        super().__init__(InMemoryPropsStore(ttl_seconds=ttl_seconds, now=now))
