"""How sessions and messages are laid out as DynamoDB items (pure functions, no boto3).

One table, keys ``pk``/``sk`` (strings), TTL attribute ``expires_at`` (epoch seconds):

==========================  ==================================  ==============================
item                        pk                                  sk
==========================  ==================================  ==============================
session metadata + state    ``S#<actor>#<session_id>``          ``SESSION``
message                     ``S#<actor>#<session_id>``          ``MSG#<incarnation>#<seq>``
global entry                ``G#<key>``                         ``GLOBAL``
an actor's props            ``U#<actor>``                       ``PROPS``
==========================  ==================================  ==============================

``SESSION`` sorts after every ``MSG#`` key, so one descending Query returns the metadata and then
the newest messages: loading a session with its last k messages is a single request. Session ids
never contain ``#``, so the actor/session split is unambiguous. The incarnation (creation time in
microseconds plus random digits) separates a re-created session from leftovers of a deleted or expired one.
State values are stored as JSON strings (no float/Decimal issues, exact round trips).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chatstate.models import SCHEMA_VERSION, Message, RequestRecord, Session, SessionRef

SESSION_SK = "SESSION"
MESSAGE_PREFIX = "MSG#"
GLOBAL_SK = "GLOBAL"
PROPS_SK = "PROPS"
MAX_ITEM_BYTES = 400 * 1024
SEQ_DIGITS = 10
INCARNATION_DIGITS = 20

Item = dict[str, dict[str, Any]]


def session_pk(ref: SessionRef) -> str:
    """Partition key of a session's items."""
    return f"S#{ref.actor_id}#{ref.session_id}"


def message_sk(incarnation: int, seq: int) -> str:
    """Sort key of a message: incarnation first, then the zero-padded sequence number."""
    return f"{MESSAGE_PREFIX}{incarnation:0{INCARNATION_DIGITS}d}#{seq:0{SEQ_DIGITS}d}"


def incarnation_prefix(incarnation: int) -> str:
    """Sort-key prefix shared by every message of one incarnation."""
    return f"{MESSAGE_PREFIX}{incarnation:0{INCARNATION_DIGITS}d}#"


def global_pk(key: str) -> str:
    """Partition key of a global entry."""
    return f"G#{key}"


def props_pk(actor_id: str) -> str:
    """Partition key of an actor's props."""
    return f"U#{actor_id}"


def epoch_seconds(moment: datetime) -> int:
    """A datetime as whole epoch seconds (the TTL attribute's unit)."""
    return int(moment.timestamp())


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _from_ms(value: str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _from_s(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def dump_json(value: Any) -> str:
    """Compact JSON text for a state value."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def session_to_item(session: Session) -> Item:
    """Full metadata item of a session."""
    ref = session.ref
    item: Item = {
        "pk": {"S": session_pk(ref)},
        "sk": {"S": SESSION_SK},
        "actor": {"S": session.actor_id},
        "sid": {"S": session.session_id},
        "channel": {"S": session.channel},
        "created": {"N": _ms(session.created_at)},
        "updated": {"N": _ms(session.updated_at)},
        "expires_at": {"N": str(epoch_seconds(session.expires_at))},
        "mc": {"N": str(session.message_count)},
        "ec": {"N": str(session.event_count)},
        "ver": {"N": str(session.version)},
        "inc": {"N": str(session.incarnation)},
        "sv": {"N": str(session.schema_version)},
        "state": {"M": {key: {"S": dump_json(value)} for key, value in session.state.items()}},
    }
    if session.requests:
        item["reqs"] = {
            "M": {
                rid: {
                    "M": {
                        "f": {"N": str(rec.first_seq)},
                        "l": {"N": str(rec.last_seq)},
                        "c": {"N": str(rec.message_count)},
                        "t": {"N": _ms(rec.applied_at)},
                    }
                }
                for rid, rec in session.requests.items()
            }
        }
    return item


def item_to_session(item: Item) -> Session:
    """Parse a metadata item (raises ``ValueError``/``KeyError`` on a corrupt item)."""
    requests = {
        rid: RequestRecord(
            request_id=rid,
            first_seq=int(rec["M"]["f"]["N"]),
            last_seq=int(rec["M"]["l"]["N"]),
            message_count=int(rec["M"]["c"]["N"]),
            applied_at=_from_ms(rec["M"]["t"]["N"]),
        )
        for rid, rec in item.get("reqs", {}).get("M", {}).items()
    }
    return Session.model_construct(
        session_id=item["sid"]["S"],
        actor_id=item["actor"]["S"],
        channel=item["channel"]["S"],
        created_at=_from_ms(item["created"]["N"]),
        updated_at=_from_ms(item["updated"]["N"]),
        expires_at=_from_s(item["expires_at"]["N"]),
        message_count=int(item["mc"]["N"]),
        event_count=int(item["ec"]["N"]),
        version=int(item["ver"]["N"]),
        incarnation=int(item["inc"]["N"]),
        schema_version=int(item.get("sv", {}).get("N", SCHEMA_VERSION)),
        state={key: json.loads(value["S"]) for key, value in item.get("state", {}).get("M", {}).items()},
        requests=requests,
    )


def message_to_item(ref: SessionRef, incarnation: int, message: Message, expires_at: datetime) -> Item:
    """A message item; it expires with the session as it was when the message was written."""
    item: Item = {
        "pk": {"S": session_pk(ref)},
        "sk": {"S": message_sk(incarnation, message.seq)},
        "seq": {"N": str(message.seq)},
        "role": {"S": message.role},
        "text": {"S": message.content},
        "ts": {"N": _ms(message.created_at)},
        "expires_at": {"N": str(epoch_seconds(expires_at))},
    }
    if message.redacted is not None:
        item["redacted"] = {"S": message.redacted}
    return item


def item_to_message(item: Item) -> Message:
    """Parse a message item."""
    redacted = item.get("redacted")
    return Message.model_construct(
        seq=int(item["seq"]["N"]),
        role=item["role"]["S"],
        content=item["text"]["S"],
        created_at=_from_ms(item["ts"]["N"]),
        redacted=redacted["S"] if redacted else None,
    )


def item_incarnation(item: Item) -> int:
    """The incarnation encoded in a message item's sort key."""
    return int(item["sk"]["S"][len(MESSAGE_PREFIX) : len(MESSAGE_PREFIX) + INCARNATION_DIGITS])


def item_expired(item: Item, now: datetime) -> bool:
    """True when the item's ``expires_at`` has passed (TTL may not have deleted it yet)."""
    expires = item.get("expires_at")
    return expires is not None and int(expires["N"]) <= epoch_seconds(now)


def json_map_item(
    pk: str, sk: str, attribute: str, values: dict[str, Any], expires_at: datetime, now: datetime
) -> Item:
    """An item holding a map of JSON-encoded values (global entries, user props)."""
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        attribute: {"M": {key: {"S": dump_json(value)} for key, value in values.items()}},
        "updated": {"N": _ms(now)},
        "expires_at": {"N": str(epoch_seconds(expires_at))},
    }


def read_json_map(item: Item, attribute: str) -> dict[str, Any]:
    """The JSON values of a map attribute written by ``json_map_item``."""
    return {key: json.loads(value["S"]) for key, value in item.get(attribute, {}).get("M", {}).items()}


def item_updated(item: Item) -> datetime:
    """``updated`` timestamp of an item."""
    return _from_ms(item["updated"]["N"])


def item_expires(item: Item) -> datetime:
    """``expires_at`` of an item as a datetime."""
    return _from_s(item["expires_at"]["N"])


def _value_size(value: dict[str, Any]) -> int:
    # DynamoDB item size rules: strings/binary by UTF-8 length, numbers ~1 byte per 2 digits + 1,
    # maps and lists 3 bytes of overhead plus 1 per element, booleans and nulls 1 byte.
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return (len(inner.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in inner)
    if kind in ("SS", "BS"):
        return sum(len(v.encode("utf-8") if isinstance(v, str) else v) for v in inner)
    if kind == "NS":
        return sum((len(v) + 1) // 2 + 1 for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item) -> int:
    """Bytes DynamoDB counts for an item (attribute names plus values), a close upper estimate."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())
