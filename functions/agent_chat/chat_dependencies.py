"""The chat function's composition root: its Powertools logger and metrics, and ``ChatDependencies``.

Everything the function uses is built in ``ChatDependencies``: the settings, the session store, the responder
(built-in, or Bedrock when ``BEDROCK_MODEL_ID`` is set), the profile store, the chat service and the
conversation list and data service.
``dependencies()`` holds one per execution environment, built during Lambda's Init when running in Lambda
(``chat_app.prepare``), otherwise on first use; ``configure(...)`` replaces it (tests and local runs inject parts;
``configure()`` alone rebuilds everything from the environment).
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from chatstate.environment import Dependencies

if TYPE_CHECKING:
    from chatstate.chat.conversations import Conversations
    from chatstate.chat.responders import Responder
    from chatstate.chat.service import ChatService
    from chatstate.profile import ProfileStore
    from chatstate.settings import Settings
    from chatstate.store.port import SessionStore

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "chatstate")


class ChatDependencies(Dependencies):
    """Every part built on first use, from the environment unless given."""

    @cached_property
    def settings(self) -> Settings:
        """The function's validated environment."""
        from chatstate.settings import Settings

        return Settings.from_env()

    @cached_property
    def store(self) -> SessionStore:
        """The DynamoDB session store."""
        from chatstate.environment import session_store

        return session_store(self.settings)

    @cached_property
    def responder(self) -> Responder:
        """Produces the replies."""
        from chatstate.chat.responders import responder_from_settings

        return responder_from_settings(self.settings)

    @cached_property
    def profiles(self) -> ProfileStore:
        """The profile store, on the session table."""
        from chatstate.environment import profile_store

        return profile_store(self.settings, self.store)

    @cached_property
    def conversations(self) -> Conversations:
        """The caller's conversation list and data (list, rename, export, erase)."""
        from chatstate.chat.conversations import build_conversations

        return build_conversations(self.store, self.profiles)

    @cached_property
    def service(self) -> ChatService:
        """The chat use cases."""
        from chatstate.chat.service import ChatService

        return ChatService(self.store, self.responder, history_turns=self.settings.history_turns)


_lock = threading.Lock()
_dependencies: ChatDependencies | None = None


def dependencies() -> ChatDependencies:
    """This execution environment's dependencies (created once; each part is built on first use)."""
    global _dependencies
    if _dependencies is None:
        with _lock:
            if _dependencies is None:
                _dependencies = ChatDependencies()
    return _dependencies


def configure(**parts: Any) -> ChatDependencies:
    """Start over with fresh dependencies; ``parts`` (e.g. ``store=``, ``responder=``) replace built ones."""
    global _dependencies
    with _lock:
        _dependencies = ChatDependencies(**parts)
    return _dependencies
