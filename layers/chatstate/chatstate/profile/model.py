"""The profile schema: what a verified user's profile may hold, and how a bot shares its attributes.

A bot marks a ``SessionAttributes`` field ``Annotated[..., Shared()]`` to keep it in the user's
profile (same field name as here). To share another field, add it to ``Profile`` (one place: the chat
API validates ``PATCH /profile`` with this model) and mark it on the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, StringConstraints

ProfileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LanguageCode = Literal["en", "es", "fr", "de", "it"]
"""The languages the bot speaks (ISO 639-1, lower case); a profile holds no other."""
LANGUAGES: tuple[str, ...] = get_args(LanguageCode)


class Profile(BaseModel):
    """A user's profile. Every field is optional; ``None`` means unset."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

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


__all__ = [
    "LANGUAGES",
    "LanguageCode",
    "Profile",
    "ProfileName",
    "ProfilePatch",
    "Shared",
    "profile_fields",
    "valid_changes",
]
