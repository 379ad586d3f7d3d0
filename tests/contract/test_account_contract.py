"""Export and erase of one user's data, on the in-memory twin, moto and DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from chatstate import account, deadline
from chatstate.account import AccountService
from chatstate.exceptions import InvalidCursor
from chatstate.models import NewMessage, SessionRef, StatePatch
from chatstate.profile import DynamoDBProfileStore, InMemoryProfileStore
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import SessionStore
from tests.contract.conftest import TTL, Clock

ANA, BEN = "ana-sub", "ben-sub"
KIOSK = SessionRef.lex("BOT1", "kiosk")


def pair(text: str) -> list[NewMessage]:
    return [NewMessage(role="user", content=text), NewMessage(role="assistant", content=f"re: {text}")]


@pytest.fixture
def service(store: SessionStore, clock: Clock) -> AccountService:
    if isinstance(store, DynamoDBSessionStore):
        profiles = DynamoDBProfileStore(store.table_name, client=store.client, ttl_seconds=TTL, now=clock)
    else:
        profiles = InMemoryProfileStore(ttl_seconds=TTL, now=clock)
    return AccountService(store, profiles)


def seed(store: SessionStore, service: AccountService, clock: Clock) -> None:
    """Ana: two API sessions (one with state and an idempotency key), a profile, turns at a shared kiosk."""
    store.create(SessionRef.of(ANA, "a1"), state={"plan": "pro"})
    store.append(SessionRef.of(ANA, "a1"), pair("first"), request_id="key-1")
    clock.advance(1)
    store.append(SessionRef.of(ANA, "a2"), pair("second"))
    store.append(SessionRef.of(BEN, "b1"), pair("ben's"))
    store.append(SessionRef.of(ANA, "d1", "direct"), pair("direct"))
    service.profiles.merge(ANA, {"name": "Ana"})
    service.profiles.merge(BEN, {"name": "Ben"})
    store.append(KIOSK, pair("ana at the kiosk"), author=ANA)
    store.link(ANA, KIOSK, ttl_seconds=TTL)
    store.append(KIOSK, pair("ben at the kiosk"), author=BEN)
    store.link(BEN, KIOSK, ttl_seconds=TTL)
    store.append(KIOSK, pair("someone anonymous"))


def merged_export(service: AccountService, subject: str) -> dict[str, Any]:
    page = service.export(subject)
    merged = {"profile": page["profile"], "sessions": {}, "lex_turns": []}
    while True:
        for entry in page["sessions"]:
            known = merged["sessions"].get(entry["session_id"])
            if known is None:
                merged["sessions"][entry["session_id"]] = entry
            else:
                known["messages"] = entry["messages"] + known["messages"]
        merged["lex_turns"] += page["lex_turns"]
        if page["next_cursor"] is None:
            return merged
        page = service.export(subject, page["next_cursor"])


def test_export_holds_the_users_profile_sessions_and_own_lex_turns_only(store, service, clock) -> None:
    seed(store, service, clock)
    export = merged_export(service, ANA)
    assert export["profile"] == {"name": "Ana"}
    sessions = export["sessions"]
    assert sorted(sessions) == ["a1", "a2"]
    assert sessions["a1"]["state"] == {"plan": "pro"}
    assert sessions["a1"]["title"] == "first"
    assert [m["content"] for m in sessions["a1"]["messages"]] == ["first", "re: first"]
    assert [m["role"] for m in sessions["a2"]["messages"]] == ["user", "assistant"]
    (kiosk,) = export["lex_turns"]
    assert (kiosk["bot_id"], kiosk["session_id"]) == ("BOT1", "kiosk")
    assert [m["content"] for t in kiosk["turns"] for m in t["messages"]] == [
        "ana at the kiosk",
        "re: ana at the kiosk",
    ]
    assert "ben" not in str(export)


def test_a_large_session_is_exported_over_several_pages_without_loss(store, service, clock, monkeypatch) -> None:
    ref = SessionRef.of(ANA, "big")
    for n in range(30):
        store.append(ref, pair(f"q{n:02d}"))
    monkeypatch.setattr(account, "EXPORT_PAGE_BYTES", 40)
    monkeypatch.setattr(account, "HISTORY_PAGE_TURNS", 4)
    pages = 0
    page = service.export(ANA)
    while page["next_cursor"]:
        pages += 1
        page = service.export(ANA, page["next_cursor"])
    assert pages > 3
    export = merged_export(service, ANA)
    assert [m["content"] for m in export["sessions"]["big"]["messages"]][::2] == [f"q{n:02d}" for n in range(30)]
    with pytest.raises(InvalidCursor):
        service.export(BEN, service.export(ANA)["next_cursor"])


def test_a_continued_session_deleted_between_pages_does_not_cut_the_next_one(store, service, clock, monkeypatch):
    small = SessionRef.of(ANA, "small")
    for n in range(3):
        store.append(small, pair(f"s{n}"))
    clock.advance(1)
    big = SessionRef.of(ANA, "big")
    for n in range(12):
        store.append(big, pair(f"b{n:02d}"))
    monkeypatch.setattr(account, "EXPORT_PAGE_BYTES", 30)
    monkeypatch.setattr(account, "HISTORY_PAGE_TURNS", 2)
    first = service.export(ANA)
    assert [s["session_id"] for s in first["sessions"]] == ["big"]  # the newest, cut after its newest turns
    store.delete(big)
    monkeypatch.setattr(account, "EXPORT_PAGE_BYTES", 10_000)
    rest = service.export(ANA, first["next_cursor"])
    (entry,) = rest["sessions"]
    assert entry["session_id"] == "small"
    assert "continued" not in entry
    assert [m["content"] for m in entry["messages"]][::2] == ["s0", "s1", "s2"]


def test_lex_turns_of_many_conversations_are_paged_too(store, service, monkeypatch) -> None:
    for n in range(6):
        ref = SessionRef.lex("BOT1", f"talk-{n}")
        store.append(ref, pair(f"mine {n}"), author=ANA)
        store.append(ref, pair(f"theirs {n}"), author=BEN)
        store.link(ANA, ref, ttl_seconds=TTL)
    monkeypatch.setattr(account, "EXPORT_PAGE_BYTES", 20)
    first = service.export(ANA)
    assert first["next_cursor"] is not None
    export = merged_export(service, ANA)
    assert sorted(t["turns"][0]["messages"][0]["content"] for t in export["lex_turns"]) == [
        f"mine {n}" for n in range(6)
    ]
    assert "theirs" not in str(export)


def test_erase_removes_everything_of_the_user_and_keeps_everyone_elses(store, service, clock) -> None:
    seed(store, service, clock)
    receipt = service.erase(ANA)
    assert receipt == {
        "erased": {
            "sessions": 2,
            "turns": 2,
            "idempotency_records": 1,
            "lex_turns": 1,
            "lex_links": 1,
            "profile": 1,
        },
        "complete": True,
        "next_cursor": None,
    }
    assert store.list_sessions(ANA).sessions == []
    assert store.get(SessionRef.of(ANA, "a1")) is None
    assert service.profiles.get(ANA) == {}
    assert store.links(ANA) == []
    assert [m.content for m in store.load(KIOSK, last=10).recent] == [
        "ben at the kiosk",
        "re: ben at the kiosk",
        "someone anonymous",
        "re: someone anonymous",
    ]
    assert store.get(SessionRef.of(BEN, "b1")) is not None
    assert service.profiles.get(BEN) == {"name": "Ben"}
    again = service.erase(ANA)  # idempotent: nothing left, nothing fails
    assert again["complete"]
    assert set(again["erased"].values()) == {0}
    assert merged_export(service, ANA) == {"profile": {}, "sessions": {}, "lex_turns": []}


def test_erase_reaches_expired_sessions_that_ttl_has_not_deleted(store, service, clock) -> None:
    store.append(SessionRef.of(ANA, "old"), pair("long ago"))
    clock.advance(TTL + 60)
    assert store.list_sessions(ANA).sessions == []
    assert service.erase(ANA)["erased"]["sessions"] == 1
    if isinstance(store, DynamoDBSessionStore):
        assert scan_for(store, ANA) == []


def test_erase_resumes_with_its_cursor_when_the_budget_runs_out(store, service) -> None:
    for n in range(5):
        store.append(SessionRef.of(ANA, f"s{n}"), pair(f"m{n}"), request_id=f"k{n}")
    ticks = iter(range(10**6))  # a clock that moves one second each time the budget is looked at

    def invocation() -> deadline.Deadline:
        return deadline.Deadline(10, clock=lambda: float(next(ticks)))

    with deadline.within(invocation()):
        receipts = [service.erase(ANA)]
    while receipts[-1]["next_cursor"]:
        with deadline.within(invocation()):
            receipts.append(service.erase(ANA, receipts[-1]["next_cursor"]))
    assert len(receipts) >= 2
    assert not any(r["complete"] for r in receipts[:-1])
    final = receipts[-1]
    assert final["complete"]
    assert final["erased"]["sessions"] == 5
    assert final["erased"]["turns"] == 5
    assert final["erased"]["idempotency_records"] == 5
    assert store.list_sessions(ANA).sessions == []
    with pytest.raises(InvalidCursor):
        service.erase(BEN, receipts[0]["next_cursor"])


def scan_for(store: DynamoDBSessionStore, subject: str) -> list[dict[str, Any]]:
    """Every item of the table that names ``subject`` anywhere (keys, index keys or author)."""
    found = []
    for page in store.client.get_paginator("scan").paginate(TableName=store.table_name):
        found += [item for item in page["Items"] if subject in str(item)]
    return found


def test_a_table_scan_after_erase_finds_nothing_of_the_user(store, service, clock, backend) -> None:
    if backend == "memory":
        pytest.skip("a table scan is a DynamoDB property")
    seed(store, service, clock)
    for n in range(60):  # more turns than one erase page of batch deletes
        store.append(SessionRef.of(ANA, "long"), pair(f"t{n}"), request_id=f"r{n}")
    store.update_state(SessionRef.of(ANA, "a2"), StatePatch.of({"k": 1}))
    assert scan_for(store, ANA)
    assert service.erase(ANA)["complete"]
    left = scan_for(store, ANA)
    # Only the direct-invoke session stays: its actor id is whatever the invoking service chose, not an identity.
    assert [item["pk"]["S"][0] for item in left] == ["D", "D"]
    assert scan_for(store, BEN)
