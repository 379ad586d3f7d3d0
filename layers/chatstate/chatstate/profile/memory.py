"""``InMemoryProfileStore``: the in-process twin of ``DynamoDBProfileStore`` (tests, local runs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chatstate.models import utc_now
from chatstate.profile.port import PROFILE_TTL_SECONDS, ProfileStore
from chatstate.store.props import InMemoryPropsStore


class InMemoryProfileStore(ProfileStore):
    """Profiles on an ``InMemoryPropsStore``: same behaviour as the DynamoDB adapter (expiry included).

    Args:
        ttl_seconds: Lifetime of a profile after its last change.
        now: The clock (tests inject one).
    """

    def __init__(self, *, ttl_seconds: int = PROFILE_TTL_SECONDS, now: Callable[[], datetime] = utc_now) -> None:
        super().__init__(InMemoryPropsStore(ttl_seconds=ttl_seconds, now=now))
