"""Strands Agents integration: ``DynamoDBSessionManager`` stores agent sessions in chatstate's session table.

``strands`` is imported on first use of these names, never by the layer itself: a function that uses
them adds ``strands-agents`` to its own requirements.
"""

from __future__ import annotations

from chatstate._exports import lazy_exports

TYPE_CHECKING = False  # type checkers read the block below; at run time it names the exports (chatstate._exports)
if TYPE_CHECKING:
    from chatstate.strands.dynamodb import DynamoDBSessionRepository as DynamoDBSessionRepository
    from chatstate.strands.manager import DynamoDBSessionManager as DynamoDBSessionManager
    from chatstate.strands.manager import InMemorySessionManager as InMemorySessionManager
    from chatstate.strands.memory import InMemorySessionRepository as InMemorySessionRepository
    from chatstate.strands.memory import InMemoryTable as InMemoryTable
    from chatstate.strands.repository import SessionConflict as SessionConflict
    from chatstate.strands.repository import SessionStoreError as SessionStoreError
    from chatstate.strands.repository import SessionTooLarge as SessionTooLarge
    from chatstate.strands.scripted import ScriptedModel as ScriptedModel

__getattr__, __dir__ = lazy_exports(__name__, __file__)
