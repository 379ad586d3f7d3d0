"""Behaviour every SessionStore adapter must share (run against in-memory, moto and DynamoDB Local)."""

from __future__ import annotations

import re
import threading
from datetime import date
from enum import StrEnum

import pytest
from pydantic import BaseModel, ValidationError

from chatstate.exceptions import (
    ConflictError,
    DuplicateRequest,
    IdempotencyKeyReused,
    InvalidCursor,
    ItemTooLarge,
    SessionExists,
    SessionNotFound,
    StaleState,
)
from chatstate.models import NewMessage, SessionRef, StatePatch
from chatstate.store.port import NEW_SESSION, SessionStore, StorePolicy
from tests.contract.conftest import TTL, Clock

ALICE = SessionRef.of("alice", "s-1")
BOB_SAME_ID = SessionRef.of("bob", "s-1")


def user(text: str) -> NewMessage:
    return NewMessage(role="user", content=text)


def bot(text: str) -> NewMessage:
    return NewMessage(role="assistant", content=text)


def chat(store: SessionStore, ref: SessionRef, turns: int, start: int = 0) -> None:
    for i in range(start, start + turns):
        store.append(ref, [user(f"question {i}"), bot(f"answer {i}")])


class Tier(StrEnum):
    FREE = "free"
    PRO = "pro"


class Booking(BaseModel):
    origin: str
    destination: str
    day: date
    tier: Tier = Tier.FREE


# -- sessions ---------------------------------------------------------------------------------------


def test_create_then_get_returns_metadata_and_preloaded_state(store: SessionStore, clock: Clock) -> None:
    created = store.create(ALICE, state={"name": "Alice", "tier": Tier.PRO})
    got = store.get(ALICE)
    assert got is not None
    assert (got.session_id, got.actor_id, got.channel) == ("s-1", "alice", "api")
    assert got.state == {"name": "Alice", "tier": "pro"}
    assert got.message_count == 0
    assert got.created_at == created.created_at
    assert int((got.expires_at - got.created_at).total_seconds()) in (TTL - 1, TTL)


def test_create_refuses_a_live_duplicate_but_not_an_expired_one(store: SessionStore, clock: Clock) -> None:
    store.create(ALICE)
    store.append(ALICE, [user("old secret")])
    with pytest.raises(SessionExists):
        store.create(ALICE)
    clock.advance(TTL + 1)
    fresh = store.create(ALICE)
    assert fresh.message_count == 0
    assert store.last_messages(ALICE, 10) == []


def test_sessions_are_isolated_per_actor(store: SessionStore) -> None:
    store.append(ALICE, [user("alice only")], state=StatePatch.of({"secret": "a"}))
    assert store.get(BOB_SAME_ID) is None
    assert store.load(BOB_SAME_ID) is None
    assert store.last_messages(BOB_SAME_ID, 5) == []
    with pytest.raises(SessionNotFound):
        store.page_messages(BOB_SAME_ID)
    store.append(BOB_SAME_ID, [user("bob only")])
    assert [m.content for m in store.last_messages(ALICE, 5)] == ["alice only"]
    assert [m.content for m in store.last_messages(BOB_SAME_ID, 5)] == ["bob only"]
    assert store.fetch_all(BOB_SAME_ID) == {}


def test_delete_removes_session_and_history(store: SessionStore) -> None:
    chat(store, ALICE, 3)
    assert store.delete(ALICE) is True
    assert store.get(ALICE) is None
    with pytest.raises(SessionNotFound):
        store.page_messages(ALICE)
    assert store.delete(ALICE) is False
    again = store.append(ALICE, [user("new start")])
    assert again.session.message_count == 1
    assert [m.content for m in store.last_messages(ALICE, 10)] == ["new start"]


# -- history ----------------------------------------------------------------------------------------


def test_append_creates_session_and_counts_user_messages(store: SessionStore) -> None:
    result = store.append(ALICE, [user("hi"), bot("hello")])
    assert [m.seq for m in result.messages] == [1, 2]
    assert result.session.message_count == 1
    assert result.session.event_count == 2
    result = store.append(ALICE, [user("again"), bot("sure")], expected=result.session)
    assert [m.seq for m in result.messages] == [3, 4]
    assert store.get(ALICE).message_count == 2


def test_append_without_create_on_absent_session(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        store.append(ALICE, [user("x")], create=False)
    assert store.get(ALICE) is None


def test_load_returns_session_and_last_k_oldest_first(store: SessionStore) -> None:
    chat(store, ALICE, 6)
    loaded = store.load(ALICE, last=3)
    assert loaded is not None
    assert [m.content for m in loaded.recent] == ["answer 4", "question 5", "answer 5"]
    assert [m.seq for m in loaded.recent] == [10, 11, 12]
    assert loaded.session.event_count == 12
    assert store.load(ALICE, last=0).recent == []
    assert len(store.load(ALICE, last=50).recent) == 12


def test_stale_expected_session_never_loses_a_message(store: SessionStore) -> None:
    first = store.append(ALICE, [user("one")]).session
    store.append(ALICE, [user("two")], expected=first)
    store.append(ALICE, [user("three")], expected=first)  # stale: written by "another" writer meanwhile
    assert [m.content for m in store.last_messages(ALICE, 10)] == ["one", "two", "three"]
    assert store.get(ALICE).message_count == 3


def test_retried_request_id_is_not_applied_twice(store: SessionStore) -> None:
    first = store.append(ALICE, [user("book it"), bot("booked")], request_id="req-1")
    with pytest.raises(DuplicateRequest) as dup:
        store.append(ALICE, [user("book it"), bot("booked again")], request_id="req-1")
    record = dup.value.record
    assert (record.first_seq, record.last_seq, record.message_count) == (1, 2, 1)
    assert [m.content for m in store.replay(ALICE, record)] == ["book it", "booked"]
    assert store.get(ALICE).event_count == 2
    assert first.session.event_count == 2
    assert store.find_request(ALICE, "req-1") == record
    assert store.find_request(ALICE, "req-2") is None


def test_paging_walks_the_whole_history_without_gaps(store: SessionStore) -> None:
    chat(store, ALICE, 12)  # 24 messages
    seen: list[int] = []
    page = store.page_messages(ALICE, limit=5)
    pages = 1
    while True:
        seqs = [m.seq for m in page.messages]
        assert seqs == sorted(seqs), "each page is oldest first"
        seen = seqs + seen
        if page.next_cursor is None:
            break
        page = store.page_messages(ALICE, limit=5, cursor=page.next_cursor)
        pages += 1
    assert seen == list(range(1, 25))
    assert pages == 5


def test_cursor_is_bound_to_its_session_and_actor(store: SessionStore) -> None:
    chat(store, ALICE, 5)
    chat(store, BOB_SAME_ID, 5)
    cursor = store.page_messages(ALICE, limit=2).next_cursor
    assert cursor
    with pytest.raises(InvalidCursor):
        store.page_messages(BOB_SAME_ID, limit=2, cursor=cursor)
    with pytest.raises(InvalidCursor):
        store.page_messages(ALICE, limit=2, cursor="not-a-cursor")
    with pytest.raises(InvalidCursor):
        store.page_messages(ALICE, limit=2, cursor=cursor[:-3] + "AAA")
    store.delete(ALICE)
    chat(store, ALICE, 5)
    with pytest.raises(InvalidCursor):  # the session was re-created: old cursors do not resurrect history
        store.page_messages(ALICE, limit=2, cursor=cursor)


def test_page_size_is_validated(store: SessionStore) -> None:
    chat(store, ALICE, 1)
    for bad in (0, -1, 101):
        with pytest.raises(ValueError, match="limit"):
            store.page_messages(ALICE, limit=bad)


# -- expiry (TTL deletion lags: every read checks expires_at) ---------------------------------------


def test_expired_session_is_absent_everywhere_until_recreated(store: SessionStore, clock: Clock) -> None:
    chat(store, ALICE, 2)
    store.save(ALICE, "name", "Alice")
    clock.advance(TTL + 1)
    assert store.get(ALICE) is None
    assert store.load(ALICE) is None
    assert store.fetch_all(ALICE) == {}
    assert store.get_value(ALICE, "name") is None
    with pytest.raises(SessionNotFound):
        store.page_messages(ALICE)
    with pytest.raises(SessionNotFound):
        store.save(ALICE, "name", "Mallory")
    result = store.append(ALICE, [user("back again")])
    assert result.session.message_count == 1
    assert result.session.state == {}
    assert [m.content for m in store.last_messages(ALICE, 10)] == ["back again"]


def test_activity_refreshes_expiry(store: SessionStore, clock: Clock) -> None:
    store.append(ALICE, [user("hi")])
    clock.advance(TTL - 10)
    store.save(ALICE, "k", 1)
    clock.advance(TTL - 10)
    assert store.get(ALICE) is not None
    assert [m.content for m in store.last_messages(ALICE, 5)] == []  # messages keep their own TTL window


def test_messages_expire_one_ttl_after_they_were_written(store: SessionStore, clock: Clock) -> None:
    store.append(ALICE, [user("early")])
    clock.advance(TTL / 2)
    store.append(ALICE, [user("later")])
    clock.advance(TTL / 2 + 1)
    assert [m.content for m in store.last_messages(ALICE, 5)] == ["later"]
    page = store.page_messages(ALICE, limit=5)
    assert [m.content for m in page.messages] == ["later"]
    assert page.next_cursor is None


# -- per-session state --------------------------------------------------------------------------------


def test_state_save_get_typed_fetch_all_evict(store: SessionStore) -> None:
    store.create(ALICE)
    booking = Booking(origin="Paris", destination="Rome", day=date(2026, 12, 24), tier=Tier.PRO)
    store.save(ALICE, "booking", booking)
    store.save(ALICE, "visits", 3)
    store.save(ALICE, "ratio", 0.1)
    assert store.get_value(ALICE, "booking", Booking) == booking
    assert store.get_value(ALICE, "ratio") == 0.1
    assert store.get_value(ALICE, "missing", default="d") == "d"
    with pytest.raises(ValidationError):
        store.get_value(ALICE, "visits", Booking)
    assert set(store.fetch_all(ALICE)) == {"booking", "visits", "ratio"}
    store.evict(ALICE, "visits", "never-there")
    assert set(store.fetch_all(ALICE)) == {"booking", "ratio"}


def test_clear_keeps_only_retained_keys(store: SessionStore) -> None:
    store.create(ALICE, state={"a": 1, "b": 2, "c": 3})
    store.clear(ALICE, retain=["b"])
    assert store.fetch_all(ALICE) == {"b": 2}
    with pytest.raises(SessionNotFound):
        store.clear(BOB_SAME_ID)


def test_append_merges_state_patch_atomically(store: SessionStore) -> None:
    store.create(ALICE, state={"keep": True, "drop": 1})
    result = store.append(ALICE, [user("hi")], state=StatePatch.of({"new": [1, 2]}, remove={"drop"}))
    assert result.session.state == {"keep": True, "new": [1, 2]}
    assert store.fetch_all(ALICE) == {"keep": True, "new": [1, 2]}


def test_state_updates_from_two_writers_are_both_kept(make_store, policy: StorePolicy) -> None:
    one, two = make_store(policy), make_store(policy)
    loaded = one.append(ALICE, [user("hi")]).session
    two.save(ALICE, "from_two", "x")
    with pytest.raises(StaleState) as stale:  # computed from a state that changed: never applied blindly
        one.append(ALICE, [user("more")], expected=loaded, state=StatePatch.of({"from_one": "y"}))
    assert stale.value.session.state == {"from_two": "x"}
    assert [m.content for m in one.last_messages(ALICE, 5)] == ["hi"]  # nothing of the stale turn was written
    one.append(ALICE, [user("more")], expected=stale.value.session, state=StatePatch.of({"from_one": "y"}))
    assert one.fetch_all(ALICE) == {"from_two": "x", "from_one": "y"}
    one.update_state(ALICE, StatePatch.of({"blind": 1}))  # without an expected session: merged key by key
    assert one.fetch_all(ALICE) == {"from_two": "x", "from_one": "y", "blind": 1}


def test_a_read_modify_write_counter_is_exact_when_turns_re_run(make_store, policy: StorePolicy) -> None:
    one, two = make_store(policy), make_store(policy)
    one.create(ALICE, state={"visits": 0})
    stale = one.get(ALICE)
    fresh = two.get(ALICE)
    two.append(ALICE, [user("b")], expected=fresh, state=StatePatch.of({"visits": fresh.state["visits"] + 1}))
    session = stale
    for _ in range(3):
        try:
            one.append(
                ALICE, [user("a")], expected=session, state=StatePatch.of({"visits": session.state["visits"] + 1})
            )
            break
        except StaleState as exc:
            session = exc.session
    assert one.get(ALICE).state == {"visits": 2}
    assert sorted(m.content for m in one.last_messages(ALICE, 5)) == ["a", "b"]


def test_messages_only_appends_never_raise_stale_state(make_store, policy: StorePolicy) -> None:
    one, two = make_store(policy), make_store(policy)
    loaded = one.append(ALICE, [user("hi")], state=StatePatch.of({"k": 1})).session
    two.append(ALICE, [user("other")], state=StatePatch.of({"k": 2}))
    one.append(ALICE, [user("late")], expected=loaded)  # no state computed from the stale read: retried inside
    assert [m.content for m in one.last_messages(ALICE, 5)] == ["hi", "other", "late"]


def test_the_newest_turns_origin_comes_back_with_every_read(store: SessionStore) -> None:
    assert store.append(ALICE, [user("hi")], origin="req-1").session.origin == "req-1"
    assert store.get(ALICE).origin == store.load(ALICE, last=0).session.origin == "req-1"
    store.append(ALICE, [bot("hello")], state=StatePatch.of({"k": 1}), origin="req-1")
    store.save(ALICE, "other", 2)  # a state-only write leaves the newest turn (and its tag) alone
    assert store.get(ALICE).origin == "req-1"
    assert "origin" not in store.get(ALICE).model_dump()  # bookkeeping, never shown to callers
    assert store.append(ALICE, [user("untagged")]).session.origin is None
    assert store.get(ALICE).origin is None
    store.append(ALICE, [user("keyed")], request_id="key-1")  # an idempotency key tags its turn too
    assert store.get(ALICE).origin == "key-1"


def test_a_turn_of_the_same_origin_written_meanwhile_raises_stale_state(make_store, policy: StorePolicy) -> None:
    one, two = make_store(policy), make_store(policy)
    loaded = one.append(ALICE, [user("before")]).session
    two.append(ALICE, [user("hello"), bot("first answer")], expected=two.get(ALICE), origin="req-2")
    with pytest.raises(StaleState) as stale:  # req-2's utterance is already recorded: the caller must know
        one.append(ALICE, [user("hello"), bot("second answer")], expected=loaded, origin="req-2")
    assert stale.value.session.origin == "req-2"
    one.append(ALICE, [bot("second answer")], expected=stale.value.session, origin="req-2")
    one.append(ALICE, [user("other")], expected=loaded, origin="req-3")  # another origin: messages never conflict
    contents = [m.content for m in one.last_messages(ALICE, 10)]
    assert contents == ["before", "hello", "first answer", "second answer", "other"]
    two.append(BOB_SAME_ID, [user("x")], expected=NEW_SESSION, origin="req-4")
    with pytest.raises(StaleState):  # the same for a first turn that found the session created meanwhile
        one.append(BOB_SAME_ID, [user("x")], expected=NEW_SESSION, origin="req-4")
    assert [m.content for m in one.last_messages(BOB_SAME_ID, 10)] == ["x"]


def test_too_large_writes_fail_cleanly_and_change_nothing(store: SessionStore) -> None:
    store.append(ALICE, [user("small")], state=StatePatch.of({"k": "v"}))
    huge = "x" * (401 * 1024)
    with pytest.raises(ItemTooLarge, match=r"\d+-byte item limit"):
        store.append(ALICE, [user(huge)])
    with pytest.raises(ItemTooLarge):
        store.append(ALICE, [user("fine")], state=StatePatch.of({"blob": huge}))
    with pytest.raises(ItemTooLarge):
        store.save(ALICE, "blob", huge)
    session = store.get(ALICE)
    assert session.event_count == 1
    assert session.state == {"k": "v"}
    assert [m.content for m in store.last_messages(ALICE, 5)] == ["small"]


def test_long_history_has_no_size_cliff(store: SessionStore) -> None:
    text = "y" * 2000
    for i in range(120):  # 240 KB of history: one-item designs fail near here, we do not
        store.append(ALICE, [user(f"{i} {text}")])
    assert store.get(ALICE).message_count == 120
    assert store.last_messages(ALICE, 1)[0].content.startswith("119 ")


# -- redaction ------------------------------------------------------------------------------------------


EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def mask_email(text: str) -> str:
    return EMAIL.sub("[email]", text)


def test_redactor_stores_a_redacted_form(make_store, clock: Clock) -> None:
    store = make_store(StorePolicy(ttl_seconds=TTL, now=clock, redactor=mask_email))
    store.append(ALICE, [user("mail me at a.b@example.com"), bot("ok")])
    first, second = store.last_messages(ALICE, 2)
    assert first.content == "mail me at a.b@example.com"
    assert first.redacted == "mail me at [email]"
    assert first.effective_content == "mail me at [email]"
    assert second.redacted is None


def test_redactor_can_drop_the_original(make_store, clock: Clock) -> None:
    store = make_store(StorePolicy(ttl_seconds=TTL, now=clock, redactor=mask_email, keep_original=False))
    store.append(SessionRef.of("carol", "s-9"), [user("x@y.io")])
    (stored,) = store.last_messages(SessionRef.of("carol", "s-9"), 1)
    assert stored.content == "[email]"


# -- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_appends_keep_every_message_exactly_once(make_store, policy: StorePolicy, backend: str) -> None:
    if backend == "moto":
        pytest.skip("moto's in-process backend is not thread-safe; DynamoDB Local covers the real adapter")
    writers, per_writer = 6, 8
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        own = make_store(policy)
        try:
            for i in range(per_writer):
                own.append(ALICE, [user(f"w{worker}-m{i}")])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = make_store(policy)
    session = store.get(ALICE)
    assert session.message_count == writers * per_writer
    contents = [m.content for m in store.last_messages(ALICE, 100)]
    assert sorted(contents) == sorted(f"w{w}-m{i}" for w in range(writers) for i in range(per_writer))
    assert [m.seq for m in store.last_messages(ALICE, 100)] == list(range(1, writers * per_writer + 1))


# -- TTL: a head not rewritten every turn never expires under a live session ------------------------


def test_ttl_never_deletes_the_head_of_a_session_kept_alive_by_turns(store: SessionStore, clock: Clock, sweep) -> None:
    store.create(ALICE, state={"name": "Ana"})
    for i in range(8):  # 8 turns 0.4 TTL apart: 3.2 TTLs, far past the head's first lifetime
        clock.advance(TTL * 0.4)
        store.append(ALICE, [user(f"m{i}")])
        sweep()
        session = store.get(ALICE)
        assert session is not None, f"session lost after turn {i}"
        assert session.state == {"name": "Ana"}
        assert session.message_count == i + 1
    clock.advance(TTL - 5)
    sweep()
    assert [m.content for m in store.last_messages(ALICE, 2)] == ["m7"]
    clock.advance(10)
    sweep()
    assert store.get(ALICE) is None
    assert store.append(ALICE, [user("new")]).session.message_count == 1


def test_a_session_kept_alive_by_state_writes_survives_its_turns_expiring(
    store: SessionStore, clock: Clock, sweep
) -> None:
    store.append(ALICE, [user("one"), bot("two")])
    for _ in range(4):
        clock.advance(TTL * 0.6)
        store.save(ALICE, "seen", True)
        sweep()
    session = store.get(ALICE)
    assert session is not None
    assert store.last_messages(ALICE, 5) == []
    result = store.append(ALICE, [user("three")])
    assert result.messages[0].seq == 3  # counters survive the turns' expiry
    assert [m.content for m in store.last_messages(ALICE, 5)] == ["three"]


# -- namespaces: channels and actors are disjoint key spaces ------------------------------------------

NASTY = ["lex:BOT1", "a#b", "a:b", "a/b", "ünï#:/çødé😀", "A1:x", "1:x", "x"]


def test_no_actor_or_session_id_string_crosses_channels_or_actors(store: SessionStore) -> None:
    refs = []
    for channel in ("api", "lex", "direct"):
        for actor in NASTY:
            for session_id in ("s", "1:s"):
                refs.append(SessionRef.of(actor, session_id, channel))
    for index, ref in enumerate(refs):
        store.append(ref, [user(f"owner {index}")], state=StatePatch.of({"owner": index}))
    for index, ref in enumerate(refs):
        loaded = store.load(ref, last=5)
        assert loaded is not None
        assert [m.content for m in loaded.recent] == [f"owner {index}"]
        assert loaded.session.state == {"owner": index}
        assert loaded.session.channel == ref.channel
    lex = SessionRef.lex("BOT1", "s")  # what the old ``lex:<botId>`` actor trick let an HTTP sub reach
    store.append(lex, [user("lex only")], state=StatePatch.of({"visits": 1}))
    assert store.get(SessionRef.of("lex:BOT1", "s")).state == {"owner": 0}
    assert store.delete(SessionRef.of("lex:BOT1", "s", "api")) is True
    assert [m.content for m in store.last_messages(lex, 5)] == ["lex only"]
    assert store.get(lex).state == {"visits": 1}


# -- paging honours the backend's 1 MB read page --------------------------------------------------------


def test_every_message_of_huge_messages_is_reachable_through_cursors(store: SessionStore) -> None:
    big = "😀" * 4000  # 16,000 bytes each: 50 turns of two are over 1.5 MB, past one 1 MB Query page
    for i in range(40):
        store.append(ALICE, [user(f"{i:02d}u{big}"), bot(f"{i:02d}a{big}")])
    seen: list[int] = []
    page = store.page_messages(ALICE, limit=100)
    while True:
        assert page.messages, "no page is empty while older messages exist"
        seen = [m.seq for m in page.messages] + seen
        if page.next_cursor is None:
            break
        page = store.page_messages(ALICE, limit=100, cursor=page.next_cursor)
    assert seen == list(range(1, 81))
    assert store.get(ALICE).event_count == 80


# -- idempotency window ---------------------------------------------------------------------------------


def test_request_ids_are_remembered_for_the_window_not_a_count(make_store, clock: Clock) -> None:
    store = make_store(StorePolicy(ttl_seconds=TTL, now=clock, idempotency_seconds=2 * TTL))
    store.append(ALICE, [user("pay"), bot("paid")], request_id="key-1", fingerprint="f1")
    for i in range(30):  # many later turns: the request left the recent window long ago
        store.append(ALICE, [user(f"q{i}"), bot(f"a{i}")], request_id=f"other-{i}")
    with pytest.raises(DuplicateRequest) as dup:
        store.append(ALICE, [user("pay"), bot("paid twice")], request_id="key-1", fingerprint="f1")
    assert [m.content for m in store.replay(ALICE, dup.value.record)] == ["pay", "paid"]
    assert store.find_request(ALICE, "key-1", fingerprint="f1").turn == 1
    with pytest.raises(IdempotencyKeyReused):
        store.append(ALICE, [user("refund")], request_id="key-1", fingerprint="f2")
    with pytest.raises(IdempotencyKeyReused):
        store.find_request(ALICE, "key-1", fingerprint="f2")
    assert store.get(ALICE).event_count == 62  # nothing appended by the refused ones
    clock.advance(2 * TTL - 100)
    store.append(ALICE, [user("still here")])
    assert store.find_request(ALICE, "key-1", fingerprint="f1") is not None
    clock.advance(101)
    assert store.find_request(ALICE, "key-1", fingerprint="f2") is None  # window over: the key is free again
    store.append(ALICE, [user("new use")], request_id="key-1", fingerprint="f2")


def test_without_a_request_id_nothing_is_remembered(store: SessionStore) -> None:
    store.append(ALICE, [user("a")])
    store.append(ALICE, [user("a")])
    assert store.get(ALICE).message_count == 2


# -- many writers on one session ----------------------------------------------------------------------


def test_eight_writers_times_25_turns_exact_count_no_duplicates(make_store, policy: StorePolicy, backend: str) -> None:
    if backend == "moto":
        pytest.skip("moto's in-process backend is not thread-safe; DynamoDB Local covers the real adapter")
    writers, per_writer = 8, 25
    written: list[str] = []
    refused: list[BaseException] = []
    lock = threading.Lock()

    def write(worker: int) -> None:
        own = make_store(policy)
        for i in range(per_writer):
            text = f"w{worker}-t{i}"
            try:
                own.append(ALICE, [user(text), bot(f"re {text}")])
            except ConflictError as exc:
                with lock:
                    refused.append(exc)
            except BaseException as exc:  # surfaced below
                with lock:
                    refused.append(exc)
            else:
                with lock:
                    written.append(text)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(exc, ConflictError) for exc in refused), refused[:3]
    assert len(written) + len(refused) == writers * per_writer
    store = make_store(policy)
    session = store.get(ALICE)
    assert session.message_count == len(written)
    history = store.last_messages(ALICE, 2 * writers * per_writer)
    users = [m.content for m in history if m.role == "user"]
    assert sorted(users) == sorted(written)  # every acknowledged turn exactly once, nothing refused stored
    assert [m.seq for m in history] == list(range(1, 2 * len(written) + 1))
    assert [m.content for m in history[1::2]] == [f"re {u}" for u in users]  # each turn's messages together
