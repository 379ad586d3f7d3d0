"""The schema-2 key layout: sort order of heads, turns and records; injective, channel-tagged partition keys."""

from __future__ import annotations

import itertools

from chatstate.models import SessionRef
from chatstate.store import items


def test_turn_keys_sort_like_incarnation_then_number_below_the_head_and_above_records() -> None:
    keys = [(inc, n) for inc in (1, 61, 62, 10**19) for n in (1, 2, 61, 62, 3843, 3844, items.MAX_TURN)]
    encoded = [items.turn_sk(inc, n) for inc, n in keys]
    assert sorted(encoded) == encoded
    assert all(items.request_sk("zzzz~") < sk < items.HEAD_SK for sk in encoded)


def test_partition_keys_are_injective_across_channels_actors_and_session_ids() -> None:
    actors = ["a", "a1", "1", "a:b", "a#b", "lex:BOT", "ü", "😀", "A1:a"]
    sessions = ["s", "1s", ":s", "a1:s", "b"]
    refs = [
        SessionRef.of(actor, session, channel)
        for actor, session, channel in itertools.product(actors, sessions, ("api", "lex", "direct"))
    ]
    keys = {items.session_pk(ref) for ref in refs}
    assert len(keys) == len(refs)
    assert not keys & ({items.user_pk(a) for a in actors} | {items.global_pk(a) for a in actors})
