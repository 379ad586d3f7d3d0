"""Session stores: the port (``SessionStore``, ``StorePolicy``), the DynamoDB adapter and the in-memory twin."""

from __future__ import annotations

from chatstate._exports import lazy_exports

TYPE_CHECKING = False  # type checkers read the block below; at run time it names the exports (chatstate._exports)
if TYPE_CHECKING:
    from chatstate.store.dynamodb import DynamoDBSessionStore as DynamoDBSessionStore
    from chatstate.store.memory import InMemorySessionStore as InMemorySessionStore
    from chatstate.store.port import MAX_PAGE_SIZE as MAX_PAGE_SIZE
    from chatstate.store.port import NEW_SESSION as NEW_SESSION
    from chatstate.store.port import SessionStore as SessionStore
    from chatstate.store.port import StorePolicy as StorePolicy

__getattr__, __dir__ = lazy_exports(__name__, __file__)
