"""A signed-in user's Lex turns name them and link the conversation, so their data can be exported and erased."""

from __future__ import annotations

from typing import Any

import pytest
from lex_bot.intents import router

from chatstate.account import AccountService
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex import LexRuntime
from chatstate.lex.profile_link import ProfileLink
from chatstate.models import SessionRef
from chatstate.profile import InMemoryProfileStore
from chatstate.store.memory import InMemorySessionStore
from tests.lexkit import assert_valid, fixed_now, load_event
from tests.tokens import ISSUER, FakeJwks, token

ANA, BEN = "ana-sub-0001", "ben-sub-0002"


class CountingStore(InMemorySessionStore):
    def __init__(self) -> None:
        super().__init__()
        self.linked: list[tuple[str, SessionRef]] = []

    def link(self, user_id: str, ref: SessionRef, *, ttl_seconds: int) -> None:
        self.linked.append((user_id, ref))
        super().link(user_id, ref, ttl_seconds=ttl_seconds)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def profiles() -> InMemoryProfileStore:
    return InMemoryProfileStore()


@pytest.fixture
def bot(store, profiles) -> LexRuntime[Any]:
    link = ProfileLink(TokenVerifier(ISSUER, "testclient0123456789abcdef", fetch=FakeJwks()), profiles)
    return LexRuntime(router, store=store, now=fixed_now, profiles=link)


def say(bot: LexRuntime[Any], who: str | None, text: str) -> None:
    event = load_event("lex_greeting")
    event["sessionId"] = "kiosk-1"
    event["inputTranscript"] = text
    event["sessionState"].pop("originatingRequestId", None)
    if who is not None:
        event["requestAttributes"] = {TOKEN_REQUEST_ATTRIBUTE: token(who)}
    assert_valid(bot.handle(event))


def test_a_shared_kiosk_keeps_each_signed_in_users_turns_apart(bot, store, profiles):
    say(bot, ANA, "hello from Ana")
    say(bot, ANA, "hi again")
    say(bot, None, "hello from nobody")
    say(bot, BEN, "hello from Ben")
    ref = SessionRef.lex(load_event("lex_greeting")["bot"]["id"], "kiosk-1")
    assert store.linked == [(ANA, ref), (BEN, ref)]  # once per user's first turn, not on every turn
    ana = AccountService(store, profiles).export(ANA)["lex_turns"]
    assert [t["messages"][0]["content"] for t in ana[0]["turns"]] == ["hello from Ana", "hi again"]
    receipt = AccountService(store, profiles).erase(ANA)
    assert (receipt["erased"]["lex_turns"], receipt["erased"]["lex_links"]) == (2, 1)
    left = [m.content for m in store.load(ref, last=20).recent if m.role == "user"]
    assert left == ["hello from nobody", "hello from Ben"]
    assert AccountService(store, profiles).export(BEN)["lex_turns"][0]["turns"][0]["messages"][0]["content"] == (
        "hello from Ben"
    )


def test_anonymous_turns_name_nobody_and_link_nothing(bot, store):
    say(bot, None, "hello")
    say(bot, "", "hello")
    assert store.linked == []
    ref = SessionRef.lex(load_event("lex_greeting")["bot"]["id"], "kiosk-1")
    assert store.get(ref).author is None
