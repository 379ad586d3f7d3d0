"""Strands Agents integration: ``DynamoDBSessionManager`` stores agent sessions in chatstate's session table.

``strands`` is imported on first use of these names, never by the layer itself: a function that uses
them adds ``strands-agents`` to its own requirements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatstate.strands.manager import DynamoDBSessionManager
    from chatstate.strands.repository import (
        DynamoDBSessionRepository,
        SessionConflict,
        SessionStoreError,
        SessionTooLarge,
    )

__all__ = [
    "DynamoDBSessionManager",
    "DynamoDBSessionRepository",
    "SessionConflict",
    "SessionStoreError",
    "SessionTooLarge",
]


def __getattr__(name: str) -> Any:
    if name == "DynamoDBSessionManager":
        from chatstate.strands import manager

        return manager.DynamoDBSessionManager
    if name in __all__:
        from chatstate.strands import repository

        return getattr(repository, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
