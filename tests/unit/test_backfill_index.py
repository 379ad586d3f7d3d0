"""The one-off backfill lists HTTP API sessions written before the conversation list existed (moto)."""

from __future__ import annotations

from chatstate.models import NewMessage, SessionRef
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from devtools.backfill_index import backfill, scope_of
from devtools.template import create_session_table

TABLE = "backfill-sessions"


def turn(store: DynamoDBSessionStore, ref: SessionRef, text: str) -> None:
    store.append(ref, [NewMessage(role="user", content=text), NewMessage(role="assistant", content="ok")])


def test_backfill_lists_old_sessions_once_with_their_first_message_as_title(moto_dynamodb):
    create_session_table(moto_dynamodb, TABLE)
    old = DynamoDBSessionStore(
        TABLE, client=moto_dynamodb, policy=StorePolicy(ttl_seconds=3600, listed_channels=frozenset())
    )
    turn(old, SessionRef.of("ana", "old-1"), "  First   question about Lisbon")
    turn(old, SessionRef.of("ana", "old-1"), "second")
    old.create(SessionRef.of("ana", "old-2"))
    turn(old, SessionRef.of("ben", "old-3"), "ben's")
    turn(old, SessionRef.lex("BOT", "lex-1"), "a Lex turn")
    store = DynamoDBSessionStore(TABLE, client=moto_dynamodb, policy=StorePolicy(ttl_seconds=3600))
    turn(store, SessionRef.of("ana", "new"), "already listed")
    assert [s.session_id for s in store.list_sessions("ana").sessions] == ["new"]

    assert backfill(moto_dynamodb, TABLE, dry_run=True) == {"found": 3, "listed": 0, "skipped": 0}
    assert backfill(moto_dynamodb, TABLE) == {"found": 3, "listed": 3, "skipped": 0}
    listed = {s.session_id: s.title for s in store.list_sessions("ana").sessions}
    assert listed == {"new": "already listed", "old-1": "First question about Lisbon", "old-2": None}
    assert [s.session_id for s in store.list_sessions("ben").sessions] == ["old-3"]
    assert backfill(moto_dynamodb, TABLE) == {"found": 0, "listed": 0, "skipped": 0}  # idempotent


def test_scope_of_reads_the_actor_back_from_a_partition_key():
    assert scope_of("A3:anas-1") == "A3:ana"
    assert scope_of("A5:a:b:cs") == "A5:a:b:c"
    assert scope_of("L3:BOTx") is None
    assert scope_of("Axx") is None
