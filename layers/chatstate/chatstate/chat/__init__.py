"""Agent chat: the use cases behind ``AgentChatFunction`` (HTTP API and direct invoke), without HTTP.

``ChatService`` (``service.py``) runs the use cases on a ``SessionStore`` and a ``Responder``
(``responders.py``: the built-in ``EchoMemoryResponder``; ``bedrock.py``: ``BedrockConverseResponder``).
Inbound payloads and their limits live in ``payloads.py``; errors in ``errors.py``.
"""

from __future__ import annotations

from chatstate._exports import lazy_exports

TYPE_CHECKING = False  # type checkers read the block below; at run time it names the exports (chatstate._exports)
if TYPE_CHECKING:
    from chatstate.chat.errors import InvalidRequest as InvalidRequest
    from chatstate.chat.errors import PayloadTooLarge as PayloadTooLarge
    from chatstate.chat.errors import ResponderError as ResponderError
    from chatstate.chat.errors import ResponderFailed as ResponderFailed
    from chatstate.chat.errors import ResponderUnavailable as ResponderUnavailable
    from chatstate.chat.errors import Unauthenticated as Unauthenticated
    from chatstate.chat.payloads import MAX_MESSAGE_CHARS as MAX_MESSAGE_CHARS
    from chatstate.chat.payloads import MAX_STATE_BYTES as MAX_STATE_BYTES
    from chatstate.chat.payloads import ChatTurn as ChatTurn
    from chatstate.chat.responders import EchoMemoryResponder as EchoMemoryResponder
    from chatstate.chat.responders import Responder as Responder
    from chatstate.chat.responders import responder_from_settings as responder_from_settings
    from chatstate.chat.service import ChatService as ChatService

__getattr__, __dir__ = lazy_exports(__name__, __file__)
