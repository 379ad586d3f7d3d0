"""``InMemoryProfileStore``: the in-process twin of ``DynamoDBProfileStore`` (tests, local runs)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chatstate.profile.port import ProfileStore, check_subject


class InMemoryProfileStore(ProfileStore):
    """Profiles in a dict guarded by a lock; same behaviour as the DynamoDB adapter (expiry included)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._items: dict[str, tuple[dict[str, Any], datetime]] = {}

    def _live(self, subject: str) -> dict[str, Any] | None:
        entry = self._items.get(subject)
        if entry is None or entry[1] <= self.now():
            return None
        return entry[0]

    def get(self, subject: str) -> dict[str, Any]:
        """The live profile's fields (``{}`` when none)."""
        check_subject(subject)
        with self._lock:
            return copy.deepcopy(self._live(subject) or {})

    def merge(self, subject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``fields`` (``None`` removes) and refresh the expiry."""
        check_subject(subject)
        with self._lock:
            merged = dict(self._live(subject) or {})
            for name, value in fields.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = copy.deepcopy(value)
            self._items[subject] = (merged, self.now() + timedelta(seconds=self.ttl_seconds))
            return copy.deepcopy(merged)
