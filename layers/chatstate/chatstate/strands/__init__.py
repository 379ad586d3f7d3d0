"""Strands Agents integration: ``DynamoDBSessionManager`` stores agent sessions in chatstate's session table.

``strands`` is imported on first use of these names, never by the layer itself: a function that uses
them adds ``strands-agents`` to its own requirements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatstate.strands.manager import (
        DynamoDBSessionManager,
        SessionConflict,
        SessionStoreError,
        SessionTooLarge,
    )

__all__ = ["DynamoDBSessionManager", "SessionConflict", "SessionStoreError", "SessionTooLarge"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from chatstate.strands import manager

        return getattr(manager, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
