"""The chat use cases, independent of HTTP: create, send, get, page, delete, and the direct invoke.

Every session use case takes a ``SessionRef``, validated once by ``ChatService.ref(actor_id, session_id)``
from the caller's identity and the session id (a malformed session id is an ``InvalidRequest`` naming
``session_id``; a malformed actor id is ``Unauthenticated``); the use cases raise only ``chatstate`` errors.

Sending a message costs two store requests: one ``load`` (session + last turns) and one ``append``
(both messages, one item). With a request id (``Idempotency-Key``) a third: the id's record is looked
up, and a retry inside the idempotency window is answered from the stored turn without calling the
responder or writing again; the same id with another message is ``IdempotencyKeyReused``.

Channels: HTTP callers' sessions live in the ``api`` channel, direct invokes' in ``direct``; the
store keeps them in disjoint key spaces. A turn writes no state patch (the responder only reads the
state), so a concurrent turn can never make it apply a stale one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chatstate.chat.errors import InvalidRequest, Unauthenticated
from chatstate.chat.payloads import (
    DEFAULT_PAGE_SIZE,
    ChatTurn,
    DirectInvokePayload,
    validate_payload,
)
from chatstate.chat.responders import Responder
from chatstate.exceptions import DuplicateRequest, SessionExists, SessionNotFound
from chatstate.models import (
    ActorId,
    Channel,
    MessagePage,
    NewMessage,
    RequestRecord,
    Session,
    SessionRef,
    adapter_for,
)
from chatstate.settings import DEFAULT_HISTORY_TURNS

if TYPE_CHECKING:
    from chatstate.store.port import SessionStore

_CREATE_ATTEMPTS = 3


class ChatService:
    """The agent-chat use cases on top of a ``SessionStore`` and a ``Responder``.

    Args:
        store: The session store (DynamoDB in Lambda, in-memory in tests).
        responder: Produces replies (the built-in ``EchoMemoryResponder`` or Bedrock).
        history_turns: How many earlier turns (user + assistant pairs) the responder sees.
    """

    def __init__(self, store: SessionStore, responder: Responder, *, history_turns: int = DEFAULT_HISTORY_TURNS):
        self.store = store
        self.responder = responder
        self.history_turns = max(0, history_turns)

    # -- refs ---------------------------------------------------------------------------------------
    @staticmethod
    def ref(actor_id: str, session_id: str, channel: Channel = "api") -> SessionRef:
        """Validate both ids into a ref of ``channel`` (``api``: HTTP callers, ``direct``: direct invokes).

        Raises:
            Unauthenticated: the actor id is not a valid identity.
            InvalidRequest: the session id is malformed (names ``session_id``).
        """
        try:
            adapter_for(ActorId).validate_python(actor_id)
        except ValidationError as exc:
            raise Unauthenticated("the caller's identity is not valid") from exc
        if not actor_id.strip():  # as HTTP refuses a blank JWT sub
            raise Unauthenticated("the caller's identity is not valid")
        try:
            return SessionRef.of(actor_id, session_id, channel)
        except ValidationError as exc:
            raise InvalidRequest("session_id", "must be 1..128 characters of letters, digits and . _ : @ -") from exc

    # -- use cases ----------------------------------------------------------------------------------
    def create_session(self, actor_id: str, state: Mapping[str, Any] | None = None) -> Session:
        """Create a session with a server-chosen id, optionally preloaded with ``state``."""
        for _ in range(_CREATE_ATTEMPTS):
            ref = self.ref(actor_id, uuid.uuid4().hex)
            try:
                return self.store.create(ref, state=dict(state or {}))
            except SessionExists:  # pragma: no cover - a uuid4 collision
                continue
        raise SessionExists("could not choose a fresh session id")  # pragma: no cover

    def send_message(self, ref: SessionRef, message: str, *, request_id: str | None = None) -> ChatTurn:
        """Answer ``message`` in the session (creating it if new or expired) and store both messages.

        Raises:
            IdempotencyKeyReused: ``request_id`` was used with another message within the window.
            ResponderUnavailable, ResponderFailed: the responder could not reply (nothing is stored).
            ConflictError, StoreUnavailable, ItemTooLarge, StoreError: from the store.
        """
        loaded = self.store.load(ref, last=2 * self.history_turns)
        session = loaded.session if loaded else None
        fingerprint = _fingerprint(message) if request_id else None
        if request_id and session is not None:
            record = self.store.find_request(ref, request_id, fingerprint=fingerprint)
            if record is not None:
                return self._replay(ref, record)
        history = loaded.recent if loaded else []
        reply = self.responder.reply(session, history, message)
        try:
            result = self.store.append(
                ref,
                [NewMessage(role="user", content=message), NewMessage(role="assistant", content=reply)],
                expected=session,
                request_id=request_id,
                fingerprint=fingerprint,
            )
        except DuplicateRequest as dup:
            # A concurrent retry of the same request won the race: answer with what it stored.
            return self._replay(ref, dup.record)
        return ChatTurn(session_id=ref.session_id, reply=reply, message_count=result.session.message_count)

    def _replay(self, ref: SessionRef, record: RequestRecord) -> ChatTurn:
        """The answer a request id got the first time it was applied."""
        stored = self.store.replay(ref, record)
        reply = next((m.effective_content for m in reversed(stored) if m.role == "assistant"), "")
        return ChatTurn(session_id=ref.session_id, reply=reply, message_count=record.message_count, replayed=True)

    def get_session(self, ref: SessionRef) -> Session:
        """The live session. Raises ``SessionNotFound`` (absent, expired, deleted or another actor's)."""
        session = self.store.get(ref)
        if session is None:
            raise SessionNotFound(f"session {ref.session_id!r} was not found")
        return session

    def page_messages(
        self, ref: SessionRef, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> MessagePage:
        """One page of history: the ``limit`` most recent messages before ``cursor``, oldest first.

        Raises:
            InvalidRequest: ``limit`` outside 1..``MAX_PAGE_SIZE`` (the store's bound and check).
            SessionNotFound: the session is not live for this actor.
            InvalidCursor: the cursor is malformed or belongs to another session, actor or incarnation.
        """
        return self.store.page_messages(ref, limit=limit, cursor=cursor or None)

    def delete_session(self, ref: SessionRef) -> None:
        """Delete the session and its history. Raises ``SessionNotFound`` if it was not live."""
        if not self.store.delete(ref):
            raise SessionNotFound(f"session {ref.session_id!r} was not found")

    def invoke(self, payload: object) -> dict[str, Any]:
        """The AgentCore-style direct invocation: ``{"message", "session_id", "actor_id"}`` → reply.

        Returns:
            ``{"response": str, "session_id": str, "message_count": int}``.

        Raises:
            InvalidRequest, PayloadTooLarge: the payload is not a valid direct-invoke payload.
            Unauthenticated: ``actor_id`` is not a valid identity.
            Any error of ``send_message``.
        """
        data = validate_payload(DirectInvokePayload, payload)
        ref = self.ref(data.actor_id, data.session_id, "direct")
        turn = self.send_message(ref, data.message, request_id=data.request_id)
        return {"response": turn.reply, "session_id": turn.session_id, "message_count": turn.message_count}


def _fingerprint(message: str) -> str:
    """A digest of a request body, kept with its idempotency key to refuse reuse with another body."""
    return hashlib.sha256(message.encode("utf-8")).hexdigest()[:32]
