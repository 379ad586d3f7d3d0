"""How Strands agent sessions are laid out as DynamoDB items (pure functions, no boto3, no ``strands``).

A Strands session is one partition of the session table, in its own key space
(``chatstate.store.items.strands_pk``: tag ``S``, length-prefixed actor, session id):

=======================  ==========================================  ======================================
item                     ``sk``                                      written
=======================  ==========================================  ======================================
session record           ``~``                                       once; its TTL pushed now and then
one agent turn           ``a<len(agent id)>:<agent id><turn:6>``     once per agent invocation, conditional
multi-agent state        ``g<len(id)>:<id>``                         on create and every update, versioned
=======================  ==========================================  ======================================

A turn holds the messages one invocation added (``f`` is the id of the first), the agent's snapshot
after it (state, conversation-manager state, internal state), the number of turns back to the start of
the conversation window (``w``) and what the writer knew of the session record's expiry (``sx``). The
turn number in the sort key (fixed-width base 62) is the optimistic lock: two writers that loaded the
same turn both write the next number and only one ``attribute_not_exists`` put succeeds. The payload
(messages, redactions, snapshot) is compact JSON compressed with zlib in one binary attribute ``b``:
every byte of an item is billed, and a 600-byte exchange with its snapshot then fits one write unit. A
stored turn is rewritten only to redact a message (``update_message``), conditional on its version ``v``.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatstate.store import items as store_items
from chatstate.store.logic import epoch_seconds as epoch_seconds  # the strands modules' TTL unit

SESSION_SK = "~"
AGENT_TAG = "a"
MULTI_AGENT_TAG = "g"
TURN_WIDTH = 6
MAX_TURN = 62**TURN_WIDTH - 1
MAX_ID_LENGTH = 512
TTL_ATTRIBUTE = store_items.TTL_ATTRIBUTE

Item = dict[str, dict[str, Any]]


def check_id(value: object, what: str) -> str:
    """A session, agent or actor id as stored: a non-empty string without control characters or path separators.

    Raises:
        ValueError: for anything else (the message names the id, as Strands' own identifier check does).
    """
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_ID_LENGTH
        or any(ord(c) < 32 or c in "/\\" for c in value)
    ):
        raise ValueError(f"{what}={value} | id cannot contain path separators or control characters")
    return value


def check_message_id(message_id: object) -> int:
    """A message id: a non-negative int (``ValueError`` otherwise, worded as Strands words it)."""
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 0:
        raise ValueError(f"message_id=<{message_id}> | message id must be an integer")
    return message_id


def session_pk(actor_id: str, session_id: str) -> str:
    """Partition key of a Strands session of ``actor_id``."""
    return store_items.strands_pk(actor_id, session_id)


def agent_prefix(agent_id: str) -> str:
    """Sort-key prefix of every turn of one agent (length-prefixed: no agent id is a prefix of another's)."""
    return f"{AGENT_TAG}{len(agent_id)}:{agent_id}"


def turn_sk(agent_id: str, turn: int) -> str:
    """Sort key of an agent's turn ``turn``."""
    return agent_prefix(agent_id) + store_items.base62(turn, TURN_WIDTH)


def turn_range(agent_id: str) -> tuple[str, str]:
    """The lowest and highest sort keys an agent's turns can take."""
    return turn_sk(agent_id, 0), turn_sk(agent_id, MAX_TURN)


def multi_agent_sk(multi_agent_id: str) -> str:
    """Sort key of a multi-agent (Graph, Swarm) state."""
    return f"{MULTI_AGENT_TAG}{len(multi_agent_id)}:{multi_agent_id}"


def key(pk: str, sk: str) -> Item:
    """A primary key in the low-level form."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def alive(item: Item, now: datetime) -> bool:
    """False once the item's TTL attribute has passed (TTL deletion may not have happened yet)."""
    return not store_items.expired(item, now)


# -- session and multi-agent records ------------------------------------------------------------------
def document_item(pk: str, sk: str, document: dict[str, Any], expires_at: int, version: int | None = None) -> Item:
    """A JSON document item (session record ``d``; multi-agent state with a version ``v``)."""
    item: Item = {**key(pk, sk), "d": {"S": store_items.dump_json(document)}, TTL_ATTRIBUTE: {"N": str(expires_at)}}
    if version is not None:
        item["v"] = {"N": str(version)}
    return item


def item_document(item: Item) -> dict[str, Any]:
    """The JSON document of a session or multi-agent item."""
    document: dict[str, Any] = json.loads(item["d"]["S"])
    return document


def item_version(item: Item) -> int:
    """The version of a multi-agent item."""
    return int(item.get("v", {"N": "0"})["N"])


def item_expiry(item: Item) -> int:
    """The TTL attribute of an item, in epoch seconds."""
    return int(item[TTL_ATTRIBUTE]["N"])


# -- agent turns ---------------------------------------------------------------------------------------
@dataclass
class Turn:
    """One stored turn of an agent.

    ``messages`` are Strands message dicts (bytes already base64-encoded), the first one numbered
    ``first_id``; ``redactions`` maps an index in ``messages`` to its redacted form; ``snapshot`` is the
    agent after the turn (``state``, ``conversation_manager_state``, ``_internal_state``, ``created_at``)
    or ``None``; ``window`` is how many turns, this one included, hold the agent's conversation window.
    """

    number: int
    written_at: datetime
    expires_at: int
    first_id: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    redactions: dict[int, dict[str, Any]] = field(default_factory=dict)
    snapshot: dict[str, Any] | None = None
    window: int = 0
    session_expires_at: int | None = None
    version: int = 0

    @property
    def next_id(self) -> int:
        """The id the message after this turn's last one takes."""
        return self.first_id + len(self.messages)


def turn_to_item(pk: str, agent_id: str, turn: Turn) -> Item:
    """The item of one turn (payload compressed; see the module docstring)."""
    payload: dict[str, Any] = {}
    if turn.messages:
        payload["m"] = turn.messages
    if turn.redactions:
        payload["x"] = {str(i): m for i, m in turn.redactions.items()}
    if turn.snapshot is not None:
        payload["a"] = turn.snapshot
    item: Item = {
        **key(pk, turn_sk(agent_id, turn.number)),
        "b": {"B": zlib.compress(store_items.dump_json(payload).encode("utf-8"), 9)},
        "t": store_items.ms_value(turn.written_at),
        "f": {"N": str(turn.first_id)},
        TTL_ATTRIBUTE: {"N": str(turn.expires_at)},
    }
    if turn.window:
        item["w"] = {"N": str(turn.window)}
    if turn.session_expires_at is not None:
        item["sx"] = {"N": str(turn.session_expires_at)}
    if turn.version:
        item["v"] = {"N": str(turn.version)}
    return item


def item_to_turn(item: Item) -> Turn:
    """Parse a turn item (``KeyError``/``ValueError``/``zlib.error`` on a corrupt one)."""
    raw = item["b"]["B"]
    payload = json.loads(zlib.decompress(raw if isinstance(raw, bytes) else bytes(raw)).decode("utf-8"))
    return Turn(
        number=store_items.from_base62(item["sk"]["S"][-TURN_WIDTH:]),
        written_at=store_items.from_ms_value(item["t"]),
        expires_at=item_expiry(item),
        first_id=int(item.get("f", {"N": "0"})["N"]),
        messages=payload.get("m", []),
        redactions={int(i): m for i, m in payload.get("x", {}).items()},
        snapshot=payload.get("a"),
        window=int(item.get("w", {"N": "0"})["N"]),
        session_expires_at=int(item["sx"]["N"]) if "sx" in item else None,
        version=int(item.get("v", {"N": "0"})["N"]),
    )


def turn_number(item: Item) -> int:
    """The turn number of a turn item, from its sort key alone."""
    return store_items.from_base62(item["sk"]["S"][-TURN_WIDTH:])
