"""A verified user's cross-channel profile (name, language, fields a bot declares shared).

``Profile``/``ProfilePatch`` (``chatstate.profile.model``) are the one schema both functions use; a
``ProfileStore`` (``port``) keeps one profile per verified user (the Cognito ``sub``), in DynamoDB
(``dynamodb``) or in memory (``memory``, the twin).
"""

from __future__ import annotations

from chatstate._exports import lazy_exports

TYPE_CHECKING = False  # type checkers read the block below; at run time it names the exports (chatstate._exports)
if TYPE_CHECKING:
    from chatstate.profile.dynamodb import DynamoDBProfileStore as DynamoDBProfileStore
    from chatstate.profile.memory import InMemoryProfileStore as InMemoryProfileStore
    from chatstate.profile.model import Profile as Profile
    from chatstate.profile.model import ProfilePatch as ProfilePatch
    from chatstate.profile.model import Shared as Shared
    from chatstate.profile.port import ProfileStore as ProfileStore

__getattr__, __dir__ = lazy_exports(__name__, __file__)
