"""``DynamoDBSessionManager``: a Strands session manager and repository on chatstate's session table.

``TurnSessionManager`` holds the session-manager hooks over any ``BaseSessionRepository``;
``DynamoDBSessionManager`` puts them on DynamoDB, ``InMemorySessionManager`` on the in-memory twin.

Strands' own managers write every message, then the agent, as separate requests, and overwrite
what is there. This one writes each agent invocation as one turn: the messages it added (prompt,
tool uses and results, answer), the agent state and the conversation-manager state go out in one
conditional ``PutItem`` after the invocation completes (``AfterInvocationEvent`` with a result). The
turn number in the sort key is the lock: of two invocations started from the same turn, one is stored
and the other raises ``SessionConflict`` with nothing of it written; the loser's agent is reloaded
from the table before its next invocation. An invocation that fails writes nothing, so the session
stays at its last complete invocation and a tool use is never stored without its result.

Restoring an agent reads its newest turns in one descending ``Query`` (another per 1 MB page, or when
the conversation window spans more turns than the conversation manager's window suggests). Every item
carries ``expires_at``; reads treat expired items as absent. Layout: ``chatstate.strands.items``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strands.agent.state import AgentState
from strands.hooks.events import (
    AfterInvocationEvent,
    AfterMultiAgentInvocationEvent,
    AfterNodeCallEvent,
    AgentInitializedEvent,
    BeforeInvocationEvent,
    MessageAddedEvent,
    MultiAgentInitializedEvent,
)
from strands.session.repository_session_manager import RepositorySessionManager
from strands.types.exceptions import SessionException
from strands.types.session import Session, SessionAgent, SessionMessage

from chatstate.strands import items
from chatstate.strands.dynamodb import DynamoDBSessionRepository
from chatstate.strands.memory import InMemorySessionRepository, InMemoryTable
from chatstate.strands.repository import (
    DEFAULT_PAGE,
    BaseSessionRepository,
    SessionConflict,
    SessionStoreError,
    SessionTooLarge,
    _AgentLog,
    _iso,
)

if TYPE_CHECKING:
    from boto3.session import Session as Boto3Session
    from botocore.config import Config
    from strands.hooks.registry import HookRegistry
    from strands.types.agent import LocalAgent
    from strands.types.content import Message

__all__ = [
    "DynamoDBSessionManager",
    "InMemorySessionManager",
    "SessionConflict",
    "SessionStoreError",
    "SessionTooLarge",
    "TurnSessionManager",
]

logger = logging.getLogger(__name__)


class TurnSessionManager(RepositorySessionManager, BaseSessionRepository):
    """Strands' session-manager hooks over a ``BaseSessionRepository``: one stored turn per agent invocation."""

    def _start(self, session_id: str) -> None:
        """The session manager's own state (what ``RepositorySessionManager.__init__`` sets, without its reads)."""
        self.session_id = items.check_id(session_id, "session_id")
        self.session_repository = self
        self._session: Session | None = None
        self._is_new_session = False
        self._latest_agent_message: dict[str, SessionMessage | None] = {}
        self._last_synced_internal_state: dict[str, dict[str, Any]] = {}
        self._held_records: dict[str, list[SessionMessage]] = {}

    @property
    def session(self) -> Session:
        """This manager's session record, read (or created) on first use."""
        if self._session is None:
            self._session = self._ensure_session(self.session_id)[0]
        return self._session

    @session.setter
    def session(self, value: Session) -> None:
        self._session = value

    # -- the session manager ------------------------------------------------------------------------
    def message_count(self, agent_id: str = "default") -> int:
        """How many messages the session holds for ``agent_id``, as far as this manager has read or written them."""
        log = self._logs.get((self.session_id, agent_id))
        return (log.next_id + len(log.pending)) if log else 0

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        """Restore on init, collect messages during an invocation, store them with the agent when it completes."""
        registry.add_callback(AgentInitializedEvent, lambda event: self.initialize(event.agent))
        registry.add_callback(BeforeInvocationEvent, lambda event: self._begin(event.agent))
        registry.add_callback(MessageAddedEvent, lambda event: self.append_message(event.message, event.agent))
        registry.add_callback(AfterInvocationEvent, lambda event: self._complete(event.agent, event.result))
        registry.add_callback(MultiAgentInitializedEvent, lambda event: self.initialize_multi_agent(event.source))
        registry.add_callback(AfterNodeCallEvent, lambda event: self.sync_multi_agent(event.source))
        registry.add_callback(AfterMultiAgentInvocationEvent, lambda event: self.sync_multi_agent(event.source))

    def _log(self, agent: LocalAgent) -> _AgentLog:
        return self._logs[(self.session_id, agent.agent_id)]

    @staticmethod
    def _window_hint(agent: LocalAgent) -> int:
        """Turns a restore's first Query reads: enough for a sliding window when turns hold two messages or more."""
        manager = getattr(agent, "conversation_manager", None)
        size = getattr(manager, "window_size", None)
        if isinstance(size, int) and size > 0:
            return math.ceil(size / 2) + 2
        return DEFAULT_PAGE

    def initialize(self, agent: LocalAgent, **kwargs: Any) -> None:
        """Restore ``agent`` from its newest turns (one Query), or start it if the session has none."""
        agent_id = items.check_id(agent.agent_id, "agent_id")
        if agent_id in self._latest_agent_message:
            raise SessionException("The `agent_id` of an agent must be unique in a session.")
        self._latest_agent_message[agent_id] = None
        self._restore(agent, fresh=True)

    def _restore(self, agent: LocalAgent, *, fresh: bool) -> None:
        from strands.agent.agent import Agent

        agent_id = agent.agent_id

        def enough(turns: list[items.Turn]) -> bool:
            snapshot = next((t.snapshot for t in turns if t.snapshot is not None), None)
            if snapshot is None:
                return False
            offset = int(snapshot.get("conversation_manager_state", {}).get("removed_message_count", 0) or 0)
            return self._reaches(turns, offset) or turns[-1].next_id <= offset

        turns, newest = self._read_back(self.session_id, agent_id, enough, self._window_hint(agent))
        log = self._log_from(turns, newest)
        self._logs[(self.session_id, agent_id)] = log
        self._held_records[agent_id] = []
        if log.snapshot is None:  # a new agent: stored with its first invocation
            if log.session_expires_at is None:
                self._session, log.session_expires_at = self._ensure_session(self.session_id)
            log.created_at = _iso(self._now())
            if not fresh:
                agent.messages = []
            log.pending = [SessionMessage.from_message(m, log.next_id + i) for i, m in enumerate(agent.messages)]
            self._held_records[agent_id] = list(log.pending)
            self._latest_agent_message[agent_id] = log.pending[-1] if log.pending else None
            return
        session_agent = SessionAgent.from_dict({**log.snapshot, "agent_id": agent_id, "created_at": log.created_at})
        agent.state = AgentState(session_agent.state)
        session_agent.initialize_internal_state(agent)
        prepend: list[Message] = []
        offset = 0
        if isinstance(agent, Agent):
            prepend = agent.conversation_manager.restore_from_session(session_agent.conversation_manager_state) or []
            offset = agent.conversation_manager.removed_message_count
        stored = [m for turn in reversed(turns) for m in self._messages_of(turn) if m.message_id >= offset]
        self._held_records[agent_id] = list(stored)
        self._latest_agent_message[agent_id] = stored[-1] if stored else None
        if isinstance(agent, Agent) and agent.model.stateful:
            return
        restored = [m.to_message() for m in stored]
        if stored and stored[0].message_id > offset:  # the oldest window messages expired: start on a user turn
            while restored and not self._opens_exchange(restored[0]):
                restored.pop(0)
        agent.messages = self._fix_broken_tool_use(prepend + restored)

    @staticmethod
    def _opens_exchange(message: Message) -> bool:
        return message["role"] == "user" and not any("toolResult" in block for block in message["content"])

    def _begin(self, agent: LocalAgent) -> None:
        log = self._log(agent)
        if log.stale:
            logger.info("agent_id=<%s> | reloading the agent after a lost or failed invocation", agent.agent_id)
            self._restore(agent, fresh=False)
            log = self._log(agent)
        log.in_invocation = True

    def append_message(self, message: Message, agent: LocalAgent, **kwargs: Any) -> None:
        """Collect a message; it is stored with the rest of its invocation."""
        log = self._log(agent)
        session_message = SessionMessage.from_message(message, log.next_id + len(log.pending))
        log.pending.append(session_message)
        self._latest_agent_message[agent.agent_id] = session_message
        self._held_records.setdefault(agent.agent_id, []).append(session_message)
        if not log.in_invocation and self._settled(log.pending):
            self._store(agent, complete=False)

    @staticmethod
    def _settled(pending: list[SessionMessage]) -> bool:
        """Whether collected messages end a complete exchange (an answer that asks for no tool)."""
        if not pending:
            return False
        last = pending[-1].message
        return last["role"] == "assistant" and not any("toolUse" in c for c in last["content"])

    def redact_latest_message(self, redact_message: Message, agent: LocalAgent, **kwargs: Any) -> None:
        """Redact the latest message: in the invocation being collected, or in its stored turn."""
        latest = self._latest_agent_message.get(agent.agent_id)
        if latest is None:
            raise SessionException("No message to redact.")
        latest.redact_message = redact_message
        log = self._log(agent)
        if not any(m is latest for m in log.pending):
            self.update_message(self.session_id, agent.agent_id, latest)

    def sync_agent(self, agent: LocalAgent, **kwargs: Any) -> None:
        """Outside an invocation, store the agent if it changed (with any complete collected exchange)."""
        if not self._log(agent).in_invocation:
            self._store(agent, complete=False)

    def _complete(self, agent: LocalAgent, result: Any) -> None:
        log = self._log(agent)
        log.in_invocation = False
        if result is None:
            if log.pending:  # the agent holds a partial turn that will never be stored: reload before the next
                logger.info("agent_id=<%s> | invocation did not complete; its messages are not stored", agent.agent_id)
                log.pending = []
                log.stale = True
            return
        self._store(agent, complete=True)

    def _store(self, agent: LocalAgent, *, complete: bool) -> None:
        """Write the collected messages and the agent's snapshot as one turn, if anything changed.

        Outside an invocation (``complete`` false) messages are written only once they end a complete
        exchange; until then only a changed snapshot is.
        """
        log = self._log(agent)
        if log.stale:  # what the agent holds now is not what is stored: writes resume after the reload
            return
        snapshot = self._snapshot_of(SessionAgent.from_agent(agent))
        messages = list(log.pending) if complete or self._settled(log.pending) else []
        if not messages and log.snapshot == snapshot:
            return
        try:
            self._write_turn(self.session_id, agent.agent_id, log, messages, copy.deepcopy(snapshot))
        except (SessionConflict, SessionTooLarge):
            log.pending = []
            log.stale = True  # the agent holds messages that will never be stored: reload it first
            raise
        log.pending = log.pending[len(messages) :]


class DynamoDBSessionManager(TurnSessionManager, DynamoDBSessionRepository):
    """A Strands session manager storing agent sessions in chatstate's DynamoDB session table.

    A drop-in for ``Agent(session_manager=...)`` like Strands' ``S3SessionManager``, and a full
    ``SessionRepository`` (``DynamoDBSessionRepository``) that a bare ``RepositorySessionManager`` can
    drive; every write is conditional, never an overwrite.

    Args:
        session_id: The Strands session id (no path separators or control characters).
        table_name: The session table (``SESSION_TABLE_NAME``).
        actor_id: Whose session it is: sessions of different actors never meet, whatever their ids.
        ttl_seconds: How long a turn lives after it was written (default 24 h); the session record's
            lifetime is pushed forward by activity.
        client: A ready ``dynamodb`` client (created once per execution environment); otherwise one is
            created lazily from ``boto_session`` (or a new session in ``region_name``).
        boto_session: The boto3 session to create the client from.
        boto_client_config: botocore ``Config`` merged over the store's defaults.
        region_name: Region of the table when no client or session is given.
        now: Clock returning an aware UTC datetime (tests).
        **kwargs: Accepted for compatibility with Strands' managers.
    """

    def __init__(
        self,
        session_id: str,
        *,
        table_name: str,
        actor_id: str = "default",
        ttl_seconds: int | None = None,
        client: Any | None = None,
        boto_session: Boto3Session | None = None,
        boto_client_config: Config | None = None,
        region_name: str | None = None,
        now: Callable[[], datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        DynamoDBSessionRepository.__init__(
            self,
            table_name=table_name,
            actor_id=actor_id,
            ttl_seconds=ttl_seconds,
            client=client,
            boto_session=boto_session,
            boto_client_config=boto_client_config,
            region_name=region_name,
            now=now,
        )
        self._start(session_id)


class InMemorySessionManager(TurnSessionManager, InMemorySessionRepository):
    """``DynamoDBSessionManager``'s in-process twin (tests, local runs): the same rules on an ``InMemoryTable``.

    Args:
        session_id: The Strands session id.
        table: The in-memory table to share with other managers (a new one when omitted).
        actor_id: Whose session it is.
        ttl_seconds: How long a turn lives after it was written (default 24 h).
        now: Clock returning an aware UTC datetime (tests).
        **kwargs: Accepted for compatibility with Strands' managers.
    """

    def __init__(
        self,
        session_id: str,
        *,
        table: InMemoryTable | None = None,
        actor_id: str = "default",
        ttl_seconds: int | None = None,
        now: Callable[[], datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        InMemorySessionRepository.__init__(self, table=table, actor_id=actor_id, ttl_seconds=ttl_seconds, now=now)
        self._start(session_id)
