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
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from chatstate.environment import CachedRoot, SessionDependencies

if TYPE_CHECKING:
    from chatstate.chat.conversations import Conversations
    from chatstate.chat.service import ChatService

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "chatstate")


class ChatDependencies(SessionDependencies):
    """Every part built on first use, from the environment unless given.

    Settings, store, responder and profiles come from ``SessionDependencies``; the chat service and the
    conversation service are the chat function's own.
    """

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


_root: CachedRoot[ChatDependencies] = CachedRoot(ChatDependencies)


def dependencies() -> ChatDependencies:
    """This execution environment's dependencies (created once; each part is built on first use)."""
    return _root.get()


def configure(**parts: Any) -> ChatDependencies:
    """Start over with fresh dependencies; ``parts`` (e.g. ``store=``, ``responder=``) replace built ones."""
    return _root.configure(**parts)
