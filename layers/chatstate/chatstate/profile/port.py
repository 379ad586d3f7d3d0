"""``ProfileStore``: one profile per verified user, read whole and merged atomically.

A profile is the user's props (``chatstate.store.props``) keyed by the verified subject (the Cognito
``sub``): the ``U…`` key space, which no session or actor id can reach. A profile lives ``ttl_seconds``
after its last change (365 days by default); an expired profile is absent on every read, and a merge
into it starts from nothing. Adapters only choose the props backend: ``InMemoryProfileStore`` and
``DynamoDBProfileStore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from chatstate.models import ActorId
from chatstate.store.props import PropsStore

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
