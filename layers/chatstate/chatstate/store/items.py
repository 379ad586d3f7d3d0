"""How sessions are laid out as DynamoDB items (pure functions, no boto3). Schema version 2.

One table, keys ``pk``/``sk`` (strings), TTL attribute ``expires_at`` (epoch seconds). A session is
one partition:

=====================  ====================================  =====================================
item                   ``sk``                                written
=====================  ====================================  =====================================
head + typed state     ``~``                                 on create, state change, TTL refresh
one turn               ``t<incarnation:11><turn:5>`` base 62  once per turn, ``attribute_not_exists``
idempotency record     ``k<request id>``                     with the turn that used the key
=====================  ====================================  =====================================

An HTTP API session's head also carries the conversation list's index keys: ``ga`` (the channel-scoped
actor, ``actor_scope``) and ``la`` (listed activity, ms), and its title ``ti``. The sparse global
secondary index ``INDEX_NAME`` holds only those heads (``INCLUDE``: ``ti``, ``c``, ``m``, ``expires_at``).
A verified user's links to the Lex conversations they spoke in are items ``l<Lex partition key>`` in
their ``U<user id>`` partition; a Lex turn made by a verified user names them in ``w``.

``~`` sorts above every ``t…`` key and ``t…`` above every ``k…`` key, so one descending Query returns
the head, then the newest turns: a load is a single request. The turn number in the sort key is the
optimistic lock. Attribute names are one or two letters: every byte of every item read counts.

Partition keys are structural namespaces: ``<tag><len(actor)>:<actor><session id>`` with one tag
per channel (``A`` HTTP API, ``L`` Lex, ``D`` direct invoke, ``S`` Strands agent sessions, laid out by
``chatstate.strands.items``), ``U<user id>`` for user props and ``G<key>`` for global entries.
The tag and the length prefix make the encoding injective: no actor
or session id, whatever characters it holds, can address another channel's or actor's items.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chatstate.models import SCHEMA_VERSION, Message, RequestRecord, Role, SessionRef
from chatstate.store.capacity import MAX_ITEM_BYTES, item_size
from chatstate.store.logic import check_item_size, epoch_ms, epoch_seconds
from chatstate.store.records import Head, Turn

__all__ = ["MAX_ITEM_BYTES", "item_size"]

HEAD_SK = "~"
LINK_PREFIX = "l"
INDEX_NAME = "by-activity"
INDEX_PK = "ga"
INDEX_SK = "la"
TURN_PREFIX = "t"
REQUEST_PREFIX = "k"
TTL_ATTRIBUTE = "expires_at"
CHANNEL_TAGS = {"api": "A", "lex": "L", "direct": "D"}
STRANDS_TAG = "S"
USER_TAG = "U"
GLOBAL_TAG = "G"
INCARNATION_WIDTH = 11
TURN_WIDTH = 5
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order: sorts like the numbers
MAX_TURN = 62**TURN_WIDTH - 1
_ROLE_CODES: dict[Role, str] = {"user": "u", "assistant": "a", "system": "s", "tool": "t"}
_ROLES: dict[str, Role] = {code: role for role, code in _ROLE_CODES.items()}

Item = dict[str, dict[str, Any]]


def base62(number: int, width: int) -> str:
    """``number`` as exactly ``width`` base-62 digits, sorting as the numbers do (``ValueError`` if it does not fit)."""
    if number < 0 or number >= 62**width:
        raise ValueError(f"{number} does not fit {width} base-62 digits")
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(_B62[rest])
    return "".join(reversed(digits))


def from_base62(text: str) -> int:
    """The number that ``base62`` wrote as ``text``."""
    value = 0
    for char in text:
        value = value * 62 + _B62.index(char)
    return value


def session_pk(ref: SessionRef) -> str:
    """Partition key of a session: channel tag, length-prefixed actor, session id."""
    return f"{CHANNEL_TAGS[ref.channel]}{len(ref.actor_id)}:{ref.actor_id}{ref.session_id}"


def strands_pk(actor_id: str, session_id: str) -> str:
    """Partition key of a Strands agent session: its own tag, length-prefixed actor, session id."""
    return f"{STRANDS_TAG}{len(actor_id)}:{actor_id}{session_id}"


def actor_scope(channel: str, actor_id: str) -> str:
    """The index partition of an actor's sessions of one channel: the session key's prefix, injective as it is."""
    return f"{CHANNEL_TAGS[channel]}{len(actor_id)}:{actor_id}"


def session_id_of(pk: str, scope: str) -> str:
    """The session id of a session partition key of ``scope``."""
    if not pk.startswith(scope):
        raise ValueError("partition key outside the scope")
    return pk[len(scope) :]


def link_sk(ref: SessionRef) -> str:
    """Sort key (in a user's partition) of the link to a Lex conversation."""
    return LINK_PREFIX + session_pk(ref)


def ref_of_link(sk: str) -> SessionRef:
    """The Lex conversation a link sort key names (raises ``ValueError`` on a malformed one)."""
    pk = sk[len(LINK_PREFIX) :]
    if not pk.startswith(CHANNEL_TAGS["lex"]):
        raise ValueError("not a Lex link")
    size, _, rest = pk[1:].partition(":")
    bot = rest[: int(size)]
    return SessionRef.lex(bot, rest[int(size) :])


def user_pk(user_id: str) -> str:
    """Partition key of a user's props."""
    return f"{USER_TAG}{user_id}"


def global_pk(key: str) -> str:
    """Partition key of a global entry."""
    return f"{GLOBAL_TAG}{key}"


def turn_sk(incarnation: int, number: int) -> str:
    """Sort key of a turn: incarnation, then turn number, both fixed-width base 62."""
    return f"{TURN_PREFIX}{base62(incarnation, INCARNATION_WIDTH)}{base62(number, TURN_WIDTH)}"


def incarnation_prefix(incarnation: int) -> str:
    """Sort-key prefix shared by every turn of one incarnation."""
    return f"{TURN_PREFIX}{base62(incarnation, INCARNATION_WIDTH)}"


def request_sk(request_id: str) -> str:
    """Sort key of an idempotency record."""
    return f"{REQUEST_PREFIX}{request_id}"


def key(pk: str, sk: str) -> Item:
    """A primary key in the low-level form."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def ms_value(moment: datetime) -> dict[str, str]:
    """A time as a number attribute of epoch milliseconds (``c``, ``u``, ``t``, ``a``)."""
    return _n(epoch_ms(moment))


def ttl_value(moment: datetime) -> dict[str, str]:
    """An expiry as the TTL attribute's number (epoch seconds)."""
    return _n(epoch_seconds(moment))


def from_ms_value(value: dict[str, str]) -> datetime:
    """The time a number attribute of epoch milliseconds holds (``ms_value`` read back)."""
    return datetime.fromtimestamp(int(value["N"]) / 1000, UTC)


def _from_s(value: dict[str, str]) -> datetime:
    return datetime.fromtimestamp(int(value["N"]), UTC)


def dump_json(value: Any) -> str:
    """Compact JSON text (state values, props)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def expired(item: Item, now: datetime) -> bool:
    """True when the item's TTL attribute has passed (TTL deletion may not have happened yet)."""
    expires = item.get(TTL_ATTRIBUTE)
    return expires is not None and int(expires["N"]) <= epoch_seconds(now)


# -- head -------------------------------------------------------------------------------------------
def head_to_item(ref: SessionRef, head: Head) -> Item:
    """The head item.

    Attributes: created ``c``, updated ``u``, incarnation ``i``, state version ``v`` and JSON ``s``,
    counters as of this write (``n`` turns, ``e`` events, ``m`` user messages), schema ``z``.
    """
    item: Item = {
        **key(session_pk(ref), HEAD_SK),
        "c": ms_value(head.created_at),
        "u": ms_value(head.updated_at),
        "i": _n(head.incarnation),
        "v": _n(head.version),
        "n": _n(head.turns),
        "e": _n(head.event_count),
        "m": _n(head.message_count),
        "z": _n(head.schema_version),
        TTL_ATTRIBUTE: ttl_value(head.expires_at),
    }
    if head.state:
        item["s"] = {"S": dump_json(head.state)}
    if head.title is not None:
        item["ti"] = {"S": head.title}
    if head.activity is not None:
        item[INDEX_PK] = {"S": actor_scope(ref.channel, ref.actor_id)}
        item[INDEX_SK] = ms_value(head.activity)
    return item


def item_to_head(item: Item) -> Head:
    """Parse a head item (raises ``KeyError``/``ValueError`` on a corrupt one)."""
    return Head(
        incarnation=int(item["i"]["N"]),
        created_at=from_ms_value(item["c"]),
        updated_at=from_ms_value(item["u"]),
        expires_at=_from_s(item[TTL_ATTRIBUTE]),
        version=int(item["v"]["N"]),
        state=json.loads(item["s"]["S"]) if "s" in item else {},
        turns=int(item["n"]["N"]),
        event_count=int(item["e"]["N"]),
        message_count=int(item["m"]["N"]),
        schema_version=int(item.get("z", {"N": SCHEMA_VERSION})["N"]),
        title=item["ti"]["S"] if "ti" in item else None,
        activity=from_ms_value(item[INDEX_SK]) if INDEX_SK in item else None,
    )


def index_entry_to_head(item: Item) -> Head:
    """A head as the index projects it (no state, version or turn counters beyond ``m``)."""
    return Head(
        incarnation=0,
        created_at=from_ms_value(item["c"]),
        updated_at=from_ms_value(item[INDEX_SK]),
        expires_at=_from_s(item[TTL_ATTRIBUTE]),
        message_count=int(item["m"]["N"]) if "m" in item else 0,
        title=item["ti"]["S"] if "ti" in item else None,
        activity=from_ms_value(item[INDEX_SK]),
    )


# -- turns ------------------------------------------------------------------------------------------
def turn_to_item(ref: SessionRef, incarnation: int, turn: Turn) -> Item:
    """A turn item.

    Attributes: messages ``m`` (role letter + text), redacted forms ``x`` (by index), counters after
    the turn ``e``/``c``, written at ``t``, the tag of the request that wrote it ``r`` (its origin or
    idempotency key).
    """
    item: Item = {
        **key(session_pk(ref), turn_sk(incarnation, turn.number)),
        "m": {"L": [{"S": _ROLE_CODES[m.role] + m.content} for m in turn.messages]},
        "e": _n(turn.event_count),
        "c": _n(turn.message_count),
        "t": ms_value(turn.created_at),
        TTL_ATTRIBUTE: ttl_value(turn.expires_at),
    }
    redacted = {str(i): {"S": m.redacted} for i, m in enumerate(turn.messages) if m.redacted is not None}
    if redacted:
        item["x"] = {"M": redacted}
    if turn.origin is not None:
        item["r"] = {"S": turn.origin}
    if turn.author is not None:
        item["w"] = {"S": turn.author}
    return item


def checked_turn_item(ref: SessionRef, incarnation: int, turn: Turn) -> Item:
    """The turn item; ``ItemTooLarge`` naming the turn if it would pass the item size limit."""
    item = turn_to_item(ref, incarnation, turn)
    check_item_size(item, f"turn {turn.number}")
    return item


def checked_head_item(ref: SessionRef, head: Head) -> Item:
    """The head item; ``ItemTooLarge`` naming the session state if it would pass the item size limit."""
    item = head_to_item(ref, head)
    check_item_size(item, "session state")
    return item


def is_turn_of(item: Item, incarnation: int) -> bool:
    """True when ``item`` is a turn of ``incarnation``."""
    return bool(item["sk"]["S"].startswith(incarnation_prefix(incarnation)))


def item_to_turn(item: Item) -> Turn:
    """Parse a turn item; message sequence numbers follow from the event count."""
    texts = [value["S"] for value in item["m"]["L"]]
    redacted = {int(i): value["S"] for i, value in item.get("x", {}).get("M", {}).items()}
    event_count = int(item["e"]["N"])
    created = from_ms_value(item["t"])
    first = event_count - len(texts) + 1
    messages = tuple(
        Message.model_construct(
            seq=first + i, role=_ROLES[text[0]], content=text[1:], created_at=created, redacted=redacted.get(i)
        )
        for i, text in enumerate(texts)
    )
    return Turn(
        number=from_base62(item["sk"]["S"][-TURN_WIDTH:]),
        messages=messages,
        event_count=event_count,
        message_count=int(item["c"]["N"]),
        created_at=created,
        expires_at=_from_s(item[TTL_ATTRIBUTE]),
        origin=item["r"]["S"] if "r" in item else None,
        author=item["w"]["S"] if "w" in item else None,
    )


def incarnation_of_turn(item: Item) -> int:
    """The incarnation a turn item belongs to."""
    return from_base62(item["sk"]["S"][len(TURN_PREFIX) : len(TURN_PREFIX) + INCARNATION_WIDTH])


# -- idempotency records ----------------------------------------------------------------------------
def request_to_item(ref: SessionRef, record: RequestRecord) -> Item:
    """An idempotency record.

    Attributes: incarnation ``i``, turn ``n``, seq range ``f``..``l``, count ``c``, applied ``a``,
    body fingerprint ``h``.
    """
    assert record.expires_at is not None
    item: Item = {
        **key(session_pk(ref), request_sk(record.request_id)),
        "i": _n(record.incarnation),
        "n": _n(record.turn),
        "f": _n(record.first_seq),
        "l": _n(record.last_seq),
        "c": _n(record.message_count),
        "a": ms_value(record.applied_at),
        TTL_ATTRIBUTE: ttl_value(record.expires_at),
    }
    if record.fingerprint is not None:
        item["h"] = {"S": record.fingerprint}
    return item


def item_to_request(item: Item) -> RequestRecord:
    """Parse an idempotency record."""
    return RequestRecord.model_construct(
        request_id=item["sk"]["S"][len(REQUEST_PREFIX) :],
        incarnation=int(item["i"]["N"]),
        turn=int(item["n"]["N"]),
        first_seq=int(item["f"]["N"]),
        last_seq=int(item["l"]["N"]),
        message_count=int(item["c"]["N"]),
        applied_at=from_ms_value(item["a"]),
        expires_at=_from_s(item[TTL_ATTRIBUTE]),
        fingerprint=item["h"]["S"] if "h" in item else None,
    )


# -- props and global entries -------------------------------------------------------------------------
PROP_PREFIX = "p."
"""Each prop is its own attribute (``p.<name>``, JSON text), so one UpdateItem merges fields atomically."""


def prop_attribute(name: str) -> str:
    """The attribute holding one prop."""
    return PROP_PREFIX + name


def read_props(item: Item) -> dict[str, Any]:
    """The props of a props item."""
    return {
        name[len(PROP_PREFIX) :]: json.loads(value["S"]) for name, value in item.items() if name.startswith(PROP_PREFIX)
    }


def updated_at(item: Item) -> datetime:
    """``u`` (updated, ms) of a props or global item."""
    return from_ms_value(item["u"])


def expires_at(item: Item) -> datetime | None:
    """The TTL attribute of an item as a datetime (``None`` when it never expires)."""
    return _from_s(item[TTL_ATTRIBUTE]) if TTL_ATTRIBUTE in item else None
