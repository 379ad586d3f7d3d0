"""``ProfileStore``: one profile per verified user, read whole and merged atomically.

Keyed by the user's verified subject (the Cognito ``sub``), in a key space no session or actor id can
reach. A profile lives ``ttl_seconds`` after its last change (365 days by default); an expired
profile is absent on every read, and a merge into it starts from nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from chatstate.models import ActorId

PROFILE_TTL_SECONDS = 365 * 86_400
"""Default lifetime of a profile after its last change."""

_SUBJECT: TypeAdapter[str] = TypeAdapter(ActorId)


def check_subject(subject: str) -> str:
    """``subject`` if it is a usable id (1..256 characters, no control characters), else ``ValueError``."""
    try:
        return _SUBJECT.validate_python(subject)
    except ValidationError:
        raise ValueError("the profile subject is not a valid id") from None


class ProfileStore(ABC):
    """Profiles by verified subject.

    Args:
        ttl_seconds: Lifetime of a profile after its last change.
        now: The clock (tests inject one).
    """

    def __init__(self, *, ttl_seconds: int = PROFILE_TTL_SECONDS, now: Callable[[], datetime] | None = None) -> None:
        if ttl_seconds < 60:
            raise ValueError("ttl_seconds must be at least 60")
        self.ttl_seconds = ttl_seconds
        self.now = now or (lambda: datetime.now(UTC))

    @abstractmethod
    def get(self, subject: str) -> dict[str, Any]:
        """The live profile's fields (``{}`` when there is none or it expired)."""

    @abstractmethod
    def merge(self, subject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Set ``fields`` (a ``None`` value removes the field) atomically; returns the merged profile.

        Concurrent merges of different fields all survive. Values must be JSON-compatible.

        Raises:
            ConflictError: the profile kept changing (expired-item races only).
            StoreUnavailable: the store is throttled or unreachable (or the deadline is spent).
        """
