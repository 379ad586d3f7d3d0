"""The conversation list, titles, renames and a user's data (export/erase primitives) on every adapter."""

from __future__ import annotations

import pytest

from chatstate.exceptions import InvalidCursor, SessionNotFound
from chatstate.models import NewMessage, SessionRef
from chatstate.store.port import SessionStore, StorePolicy
from tests.contract.conftest import TTL, Clock

INTERVAL = 600


def user(text: str) -> NewMessage:
    return NewMessage(role="user", content=text)


def bot(text: str) -> NewMessage:
    return NewMessage(role="assistant", content=text)


def turn(store: SessionStore, ref: SessionRef, text: str = "hello", **kwargs) -> None:
    store.append(ref, [user(text), bot("answer")], **kwargs)


def ids(store: SessionStore, actor: str = "alice", **kwargs) -> list[str]:
    return [s.session_id for s in store.list_sessions(actor, **kwargs).sessions]


def every_id(store: SessionStore, actor: str, limit: int) -> tuple[list[str], list[int]]:
    """Every listed id by paging, and the size of each page."""
    found, sizes, cursor = [], [], None
    while True:
        page = store.list_sessions(actor, limit=limit, cursor=cursor)
        found += [s.session_id for s in page.sessions]
        sizes.append(len(page.sessions))
        cursor = page.next_cursor
        if cursor is None:
            return found, sizes


def test_sessions_are_listed_newest_activity_first_and_a_resumed_one_moves_to_the_top(
    store: SessionStore, clock: Clock
) -> None:
    for n in range(3):
        turn(store, SessionRef.of("alice", f"s{n}"))
        clock.advance(INTERVAL)
    assert ids(store) == ["s2", "s1", "s0"]
    turn(store, SessionRef.of("alice", "s0"))  # its listed activity is older than the interval: it moves
    assert ids(store) == ["s0", "s2", "s1"]
    listed = store.list_sessions("alice").sessions[0]
    assert listed.updated_at == store.get(SessionRef.of("alice", "s0")).updated_at
    assert listed.message_count == 2


def test_listed_activity_trails_the_real_one_by_less_than_the_interval(store: SessionStore, clock: Clock) -> None:
    """The order bound: at every moment the listed updated_at is within the interval of the real one."""
    ref = SessionRef.of("alice", "busy")
    for _ in range(40):  # a turn every 45 s for 30 minutes
        turn(store, ref)
        real = store.get(ref).updated_at
        listed = store.list_sessions("alice").sessions[0].updated_at
        assert listed <= real
        assert (real - listed).total_seconds() < INTERVAL
        clock.advance(45)


def test_turns_inside_the_interval_do_not_rewrite_the_listed_entry(store: SessionStore, clock: Clock) -> None:
    ref = SessionRef.of("alice", "quick")
    turn(store, ref)
    first = store.list_sessions("alice").sessions[0]
    for _ in range(5):
        clock.advance(30)
        turn(store, ref)
    assert store.list_sessions("alice").sessions[0].updated_at == first.updated_at
    clock.advance(INTERVAL)
    turn(store, ref)
    moved = store.list_sessions("alice").sessions[0]
    assert moved.updated_at == store.get(ref).updated_at
    assert moved.message_count == 7


def test_pages_are_full_while_more_exist_and_cover_every_session_once(store: SessionStore, clock: Clock) -> None:
    for n in range(25):
        store.create(SessionRef.of("alice", f"s{n:02d}"))
        clock.advance(1)
    found, sizes = every_id(store, "alice", 10)
    assert sizes == [10, 10, 5]
    assert found == [f"s{n:02d}" for n in reversed(range(25))]
    found, sizes = every_id(store, "alice", 5)
    assert sizes == [5] * 5  # no empty page after the last full one


def test_sessions_with_the_same_activity_are_paged_without_loss(store: SessionStore) -> None:
    for n in range(7):
        store.create(SessionRef.of("alice", f"t{n}"))  # the clock does not move: one activity for all
    found, _ = every_id(store, "alice", 3)
    assert sorted(found) == [f"t{n}" for n in range(7)]
    assert len(found) == 7


def test_another_actors_and_other_channels_sessions_never_appear(store: SessionStore) -> None:
    turn(store, SessionRef.of("alice", "mine"))
    turn(store, SessionRef.of("bob", "mine"))
    turn(store, SessionRef.of("alice", "direct", "direct"))
    turn(store, SessionRef.lex("alice", "lex"))
    assert ids(store) == ["mine"]
    assert ids(store, "bob") == ["mine"]
    assert ids(store, "alic") == []
    for n in range(3):
        turn(store, SessionRef.of("bob", f"b{n}"))
    cursor = store.list_sessions("bob", limit=1).next_cursor
    with pytest.raises(InvalidCursor):
        store.list_sessions("alice", cursor=cursor)
    with pytest.raises(InvalidCursor):
        store.list_sessions("alice", cursor="not-a-cursor")


def test_expired_and_deleted_sessions_are_never_listed(store: SessionStore, clock: Clock) -> None:
    turn(store, SessionRef.of("alice", "old"))
    clock.advance(TTL - 10)
    turn(store, SessionRef.of("alice", "new"))
    store.create(SessionRef.of("alice", "gone"))
    assert store.delete(SessionRef.of("alice", "gone"))
    assert ids(store) == ["new", "old"]
    clock.advance(11)  # "old" has expired; TTL has deleted nothing yet
    assert ids(store) == ["new"]


def test_title_comes_from_the_first_user_message_cut_at_a_word(store: SessionStore, clock: Clock) -> None:
    long = "How do I change my flight to Lisbon on the fourteenth without paying the fare difference again?"
    ref = SessionRef.of("alice", "t")
    turn(store, ref, long)
    turn(store, ref, "Something else entirely")
    (listed,) = store.list_sessions("alice").sessions
    assert listed.title == "How do I change my flight to Lisbon on the fourteenth…"
    assert store.get(ref).title == listed.title
    created = SessionRef.of("alice", "created")
    clock.advance(1)
    store.create(created)
    assert store.list_sessions("alice").sessions[0].title is None  # listed before its first message
    turn(store, created, "  short   one ")
    assert store.list_sessions("alice").sessions[0].title == "short one"


def test_rename_sets_the_title_and_later_turns_keep_it(store: SessionStore, clock: Clock) -> None:
    ref = SessionRef.of("alice", "r")
    store.create(ref)
    renamed = store.rename(ref, "  Trip to Lisbon ")
    assert renamed.title == "Trip to Lisbon"
    assert renamed.session_id == "r"
    turn(store, ref, "first question")  # would have derived a title
    clock.advance(INTERVAL)
    turn(store, ref, "another")
    assert store.list_sessions("alice").sessions[0].title == "Trip to Lisbon"
    assert store.get(ref).title == "Trip to Lisbon"
    with pytest.raises(SessionNotFound):
        store.rename(SessionRef.of("bob", "r"), "mine now")
    with pytest.raises(SessionNotFound):
        store.rename(SessionRef.of("alice", "absent"), "x")
    for bad in ("", "   ", "x" * 201, "bell\x07"):
        with pytest.raises(ValueError, match="title must be"):
            store.rename(ref, bad)
    clock.advance(TTL + 1)
    with pytest.raises(SessionNotFound):
        store.rename(ref, "too late")


def test_a_state_change_after_a_rename_keeps_the_title(store: SessionStore) -> None:
    ref = SessionRef.of("alice", "s")
    store.create(ref)
    store.rename(ref, "Named")
    store.save(ref, "k", 1)
    assert store.get(ref).title == "Named"
    assert store.list_sessions("alice").sessions[0].title == "Named"


def test_sessions_written_before_listing_appear_once_touched(store: SessionStore, clock: Clock) -> None:
    listing = store.policy
    store.policy = StorePolicy(ttl_seconds=TTL, now=clock, listed_channels=frozenset())  # a store without the list
    ref, other = SessionRef.of("alice", "legacy"), SessionRef.of("alice", "legacy-2")
    turn(store, ref, "written before the list existed")
    turn(store, other)
    store.policy = listing
    assert ids(store) == []
    clock.advance(5)
    turn(store, ref, "back again")
    (listed,) = store.list_sessions("alice").sessions
    assert (listed.session_id, listed.title, listed.message_count) == ("legacy", "back again", 2)
    assert store.rename(other, "Renamed").title == "Renamed"  # a rename lists it too
    assert ids(store) == ["legacy-2", "legacy"]


def test_history_pages_back_through_every_live_message(store: SessionStore) -> None:
    ref = SessionRef.of("alice", "h")
    for n in range(7):
        store.append(ref, [user(f"q{n}"), bot(f"a{n}")])
    pages, below = [], None
    incarnation = store.get(ref).incarnation
    while True:
        messages, below = store.history(ref, below=below, limit=3, incarnation=None if below is None else incarnation)
        pages.append([m.content for m in messages])
        if below is None:
            break
    assert pages[0] == ["q4", "a4", "q5", "a5", "q6", "a6"]
    assert [c for page in reversed(pages) for c in page] == [x for n in range(7) for x in (f"q{n}", f"a{n}")]
    assert store.history(SessionRef.of("bob", "h")) == ([], None)


def test_wipe_removes_the_session_its_turns_records_and_list_entry(store: SessionStore) -> None:
    ref = SessionRef.of("alice", "w")
    for n in range(3):
        store.append(ref, [user(f"q{n}"), bot("a")], request_id=f"key-{n}")
    turn(store, SessionRef.of("alice", "kept"))
    counts, done = {"sessions": 0, "turns": 0, "requests": 0}, False
    while not done:
        page, done = store.wipe(ref)
        counts = {kind: counts[kind] + page[kind] for kind in counts}
    assert counts == {"sessions": 1, "turns": 3, "requests": 3}
    assert store.get(ref) is None
    assert store.find_request(ref, "key-0") is None
    assert ids(store) == ["kept"]
    assert store.wipe(ref) == ({"sessions": 0, "turns": 0, "requests": 0}, True)


def test_a_users_turns_of_a_shared_conversation_are_found_and_erased_alone(store: SessionStore) -> None:
    kiosk = SessionRef.lex("BOT1", "kiosk")
    store.append(kiosk, [user("I am Ana"), bot("hi Ana")], author="ana")
    store.append(kiosk, [user("I am Ben"), bot("hi Ben")], author="ben")
    store.append(kiosk, [user("anonymous"), bot("hello")])
    store.append(kiosk, [user("Ana again"), bot("welcome back")], author="ana")
    assert store.get(kiosk).author == "ana"
    mine = store.authored_turns(kiosk, "ana")
    assert [[m.content for m in messages] for _, messages in mine] == [
        ["I am Ana", "hi Ana"],
        ["Ana again", "welcome back"],
    ]
    assert store.erase_authored(kiosk, "ana") == 2
    assert store.authored_turns(kiosk, "ana") == []
    left = [m.content for m in store.load(kiosk, last=10).recent]
    assert left == ["I am Ben", "hi Ben", "anonymous", "hello"]


def test_links_name_the_conversations_a_user_spoke_in(store: SessionStore) -> None:
    one, two = SessionRef.lex("BOT1", "a"), SessionRef.lex("BOT:2", "b:c")
    store.link("ana", one, ttl_seconds=TTL)
    store.link("ana", two, ttl_seconds=TTL)
    store.link("ana", one, ttl_seconds=TTL)
    store.link("ben", one, ttl_seconds=TTL)
    assert sorted(store.links("ana"), key=lambda r: r.session_id) == [one, two]
    store.unlink("ana", one)
    store.unlink("ana", one)
    assert store.links("ana") == [two]
    assert store.links("ben") == [one]
