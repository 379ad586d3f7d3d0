"""chatstate: typed, validated, durable session state for chatbots on AWS.

What a user of the layer needs, in one import (names are imported on first use, so ``import chatstate`` is cheap)::

    from chatstate import DynamoDBSessionStore, ServerOnly, SessionAttributes, SessionRef, StatePatch

Lex V2 code hooks live in ``chatstate.lex``, the agent-chat use cases in ``chatstate.chat``.
"""

from __future__ import annotations

from chatstate._exports import lazy_exports

__version__ = "0.1.0"
TYPE_CHECKING = False  # type checkers read the block below; at run time it names the exports (chatstate._exports)

if TYPE_CHECKING:
    from chatstate.account import AccountService as AccountService
    from chatstate.attributes import AttributesTooLarge as AttributesTooLarge
    from chatstate.attributes import ServerOnly as ServerOnly
    from chatstate.attributes import SessionAttributes as SessionAttributes
    from chatstate.exceptions import ChatSessionError as ChatSessionError
    from chatstate.exceptions import ConfigError as ConfigError
    from chatstate.exceptions import ConflictError as ConflictError
    from chatstate.exceptions import DeadlineExceeded as DeadlineExceeded
    from chatstate.exceptions import DuplicateRequest as DuplicateRequest
    from chatstate.exceptions import IdempotencyKeyReused as IdempotencyKeyReused
    from chatstate.exceptions import InvalidCursor as InvalidCursor
    from chatstate.exceptions import InvalidRequest as InvalidRequest
    from chatstate.exceptions import ItemTooLarge as ItemTooLarge
    from chatstate.exceptions import SessionExists as SessionExists
    from chatstate.exceptions import SessionNotFound as SessionNotFound
    from chatstate.exceptions import StaleState as StaleState
    from chatstate.exceptions import StoreError as StoreError
    from chatstate.exceptions import StoreUnavailable as StoreUnavailable
    from chatstate.models import Message as Message
    from chatstate.models import MessagePage as MessagePage
    from chatstate.models import NewMessage as NewMessage
    from chatstate.models import Session as Session
    from chatstate.models import SessionListPage as SessionListPage
    from chatstate.models import SessionRef as SessionRef
    from chatstate.models import SessionSummary as SessionSummary
    from chatstate.models import StatePatch as StatePatch
    from chatstate.profile import Profile as Profile
    from chatstate.profile import Shared as Shared
    from chatstate.store.dynamodb import DynamoDBSessionStore as DynamoDBSessionStore
    from chatstate.store.memory import InMemorySessionStore as InMemorySessionStore
    from chatstate.store.port import NEW_SESSION as NEW_SESSION
    from chatstate.store.port import SessionStore as SessionStore
    from chatstate.store.port import StorePolicy as StorePolicy

__getattr__, __dir__ = lazy_exports(__name__, __file__)
