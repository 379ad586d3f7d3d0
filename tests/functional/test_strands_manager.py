"""``DynamoDBSessionManager`` driving real Strands agents (a scripted model, no Bedrock): one write per
invocation, restore in one Query, no lost turns. On the in-memory twin, on moto and, as integration tests, on
DynamoDB Local."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from pathlib import Path

import pytest
from strands import Agent, tool
from strands.agent.conversation_manager import SlidingWindowConversationManager, SummarizingConversationManager
from strands.types.exceptions import EventLoopException

from chatstate.models import NewMessage, SessionRef
from chatstate.store import capacity
from chatstate.store.dynamodb import DynamoDBSessionStore
from chatstate.store.port import StorePolicy
from chatstate.strands import SessionConflict, SessionTooLarge
from chatstate.strands.scripted import ScriptedModel, guardrail, text, tool_call
from tests.strands_kit import TTL, StrandsTable, strands_table_fixture

table = strands_table_fixture()


@tool
def flight_status(flight: str) -> str:
    """The status of a flight."""
    return f"{flight} is on time"


def echo(messages):
    """Answers every prompt with its own text."""
    return text("you said: " + messages[-1]["content"][0]["text"])


def agent_on(table: StrandsTable, script=echo, session_id: str = "s-1", **kwargs) -> Agent:
    manager = kwargs.pop("manager", None) or table.manager(session_id, **kwargs.pop("manager_kwargs", {}))
    return Agent(
        model=ScriptedModel(script),
        session_manager=manager,
        tools=[flight_status],
        callback_handler=None,
        **kwargs,
    )


def texts(agent: Agent) -> list[str]:
    return [block.get("text", "") for m in agent.messages for block in m["content"] if "text" in block]


def test_one_conditional_write_per_invocation(table):
    agent = agent_on(table)
    table.requests.take()
    agent("hello")
    assert table.requests.take() == ["PutItem"]
    agent.state.set("trip", {"to": "Paris"})
    agent("again")
    assert table.requests.take() == ["PutItem"]


def test_tool_call_invocation_is_still_one_write(table):
    agent = agent_on(table, [tool_call("flight_status", {"flight": "LH1"}, "t-1"), text("LH1 is on time.")])
    table.requests.take()
    agent("is LH1 on time?")
    assert table.requests.take() == ["PutItem"]
    assert len(agent.messages) == 4


def test_a_fresh_process_invocation_is_load_plus_one_write(table):
    agent_on(table)("first")
    table.requests.take()
    agent = agent_on(table)  # a new manager, as in a new Lambda execution environment
    agent("second")
    assert table.requests.take() == ["Query", "PutItem"]


def test_resume_restores_messages_state_and_conversation_manager_after_a_tool_call(table):
    script = [tool_call("flight_status", {"flight": "LH1"}, "t-1"), text("LH1 is on time."), text("Bye.")]
    first = agent_on(table, script, conversation_manager=SlidingWindowConversationManager(window_size=20))
    first("is LH1 on time?")
    first.state.set("booking", {"flight": "LH1", "seats": 2})
    first("thanks")
    expected_cm = first.conversation_manager.get_state()
    table.requests.take()

    resumed = agent_on(table, conversation_manager=SlidingWindowConversationManager(window_size=20))
    assert table.requests.take() == ["Query"]
    assert resumed.messages == first.messages
    assert resumed.state.get("booking") == {"flight": "LH1", "seats": 2}
    assert resumed.conversation_manager.get_state() == expected_cm
    uses = [b for m in resumed.messages for b in m["content"] if "toolUse" in b]
    results = [b for m in resumed.messages for b in m["content"] if "toolResult" in b]
    assert [u["toolUse"]["toolUseId"] for u in uses] == [r["toolResult"]["toolUseId"] for r in results] == ["t-1"]
    resumed("and now?")
    assert texts(resumed)[-1] == "you said: and now?"


def test_sliding_window_resume_reads_only_the_window(table):
    agent = agent_on(table, conversation_manager=SlidingWindowConversationManager(window_size=6))
    for i in range(12):
        agent(f"prompt {i}")
    table.requests.take()
    resumed = agent_on(table, conversation_manager=SlidingWindowConversationManager(window_size=6))
    assert table.requests.take() == ["Query"]
    assert resumed.messages == agent.messages
    assert resumed.conversation_manager.removed_message_count == agent.conversation_manager.removed_message_count > 0


def test_summary_survives_a_restore(table):
    replies = [text("one"), text("two"), text("three"), text("Summary: we talked about one and two."), text("four")]
    manager = SummarizingConversationManager(summary_ratio=0.5, preserve_recent_messages=2)
    agent = agent_on(table, replies, conversation_manager=manager)
    agent("a")
    agent("b")
    agent("c")
    agent.conversation_manager.reduce_context(agent)
    agent("d")
    summary = agent.conversation_manager.get_state()["summary_message"]
    assert "Summary" in summary["content"][0]["text"]

    resumed = agent_on(table, conversation_manager=SummarizingConversationManager(preserve_recent_messages=2))
    assert resumed.messages == agent.messages
    assert resumed.messages[0]["content"][0]["text"] == summary["content"][0]["text"]


def test_concurrent_invocation_is_refused_and_nothing_of_it_is_stored(table):
    winner, loser = agent_on(table), agent_on(table)
    winner("from the winner")
    table.requests.take()
    with pytest.raises(SessionConflict):
        loser("from the loser")
    assert table.requests.take() == ["PutItem"]
    stored = agent_on(table)
    assert "from the loser" not in texts(stored)
    assert texts(stored) == ["from the winner", "you said: from the winner"]
    loser("loser again")  # reloads first: builds on the winner's turn
    assert texts(loser) == ["from the winner", "you said: from the winner", "loser again", "you said: loser again"]
    assert texts(agent_on(table)) == texts(loser)


def _writer(table: StrandsTable, name: str, count: int, done: list[str], errors: list[BaseException]) -> None:
    agent = agent_on(table)
    try:
        for i in range(count):
            prompt = f"{name}-{i}"
            while True:
                try:
                    agent(prompt)
                    done.append(prompt)
                    break
                except SessionConflict:
                    continue  # the agent reloads and the invocation runs again on the newest turn
    except BaseException as exc:
        errors.append(exc)


def test_two_writers_lose_nothing(table):
    if table.backend == "moto":
        pytest.skip("moto's in-process backend is not thread-safe; DynamoDB Local runs the two writers")
    count = 50
    agent_on(table)("start")
    done: list[str] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_writer, args=(table, n, count, done, errors)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = table.manager().list_messages("s-1", "default")
    prompts = [m.message["content"][0]["text"] for m in stored if m.message["role"] == "user"]
    assert sorted(prompts) == sorted(["start", *done])
    assert len(done) == 2 * count
    assert [m.message_id for m in stored] == list(range(len(stored)))


def test_an_invocation_that_dies_midway_stores_nothing(table):
    calls = {"n": 0}

    def flaky(messages):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("model unavailable")
        if calls["n"] == 2:
            return tool_call("flight_status", {"flight": "LH1"}, "t-9")
        return echo(messages)

    agent = agent_on(table, flaky)
    agent("first")
    with pytest.raises(EventLoopException, match="model unavailable"):
        agent("check LH1")
    resumed = agent_on(table)
    assert texts(resumed) == ["first", "you said: first"]
    agent("after the failure")  # the same agent drops the half turn before going on
    assert texts(agent_on(table)) == ["first", "you said: first", "after the failure", "you said: after the failure"]


def test_direct_tool_call_is_stored_as_one_write(table):
    agent = agent_on(table)
    table.requests.take()
    agent.tool.flight_status(flight="LH2")
    assert table.requests.take() == ["PutItem"]
    assert len(agent_on(table).messages) == 4


def test_expired_session_restores_empty_and_starts_again(table):
    agent_on(table)("old")
    table.clock.advance(2 * TTL)
    fresh = agent_on(table)
    assert fresh.messages == []
    fresh("new")
    assert texts(agent_on(table)) == ["new", "you said: new"]


def test_expired_window_start_is_dropped_up_to_a_user_turn(table):
    agent = agent_on(table, [tool_call("flight_status", {"flight": "LH1"}, "t-1"), text("on time"), text("ok")])
    agent("status?")
    table.clock.advance(0.6 * TTL)
    agent("thanks")
    table.clock.advance(0.6 * TTL)  # the first invocation's turn has expired, the second's has not
    resumed = agent_on(table)
    assert texts(resumed) == ["thanks", "ok"]
    assert resumed.messages[0]["role"] == "user"


def test_a_600_byte_exchange_with_its_snapshot_is_one_write_unit(table):
    prompt = "Please find me a morning flight from Seattle to Boston next Tuesday with a window seat. " * 3
    answer = "I found three morning flights; the 9:40 departure arrives at 18:05 and has window seats. " * 3
    assert len(prompt) + len(answer) >= 500
    agent = agent_on(table, [text(answer)], session_id=str(uuid.uuid4()))
    agent(prompt)
    turns = [i for i in table.items() if i["sk"]["S"].startswith("a")]
    assert len(turns) == 1
    assert capacity.write_units(capacity.item_size(turns[0])) == 1


def test_oversized_turn_is_refused_and_nothing_is_written(table):
    agent = agent_on(table)
    agent("small")
    table.requests.take()
    with pytest.raises(SessionTooLarge):
        agent(secrets.token_urlsafe(300_000))  # incompressible: the compressed turn is still over 400 KB
    assert table.requests.take() == []
    assert texts(agent_on(table)) == ["small", "you said: small"]
    agent("small again")  # the agent dropped the refused turn
    assert texts(agent_on(table)) == ["small", "you said: small", "small again", "you said: small again"]


def test_strands_sessions_and_chat_sessions_never_meet(table):
    if table.memory is not None:
        pytest.skip("the key spaces are DynamoDB's: the chat store's twin keeps its own dicts")
    store = DynamoDBSessionStore(table.name, client=table.client, policy=StorePolicy(ttl_seconds=TTL, now=table.clock))
    ref = SessionRef.of("default", "s-1", "direct")
    store.append(ref, [NewMessage(role="user", content="chat message")])
    agent = agent_on(table)
    assert agent.messages == []
    agent("strands message")
    assert [m.content for m in store.load(ref).recent] == ["chat message"]
    assert texts(agent_on(table)) == ["strands message", "you said: strands message"]


def test_a_bare_repository_session_manager_never_overwrites(table):
    from strands.session.repository_session_manager import RepositorySessionManager

    def bare() -> Agent:
        return Agent(
            model=ScriptedModel(echo),
            session_manager=RepositorySessionManager("s-bare", table.repository()),
            callback_handler=None,
        )

    first, second = bare(), bare()
    first("from the first")
    with pytest.raises(SessionConflict):
        second("from the second")
    stored = table.manager("s-bare").list_messages("s-bare", "default")
    assert [m.message["content"][0]["text"] for m in stored] == ["from the first", "you said: from the first"]
    assert texts(bare()) == ["from the first", "you said: from the first"]


def test_redacting_the_latest_stored_message(table):
    manager = table.manager()
    agent = agent_on(table, manager=manager)
    agent("my card is 4111 1111 1111 1111")
    manager.redact_latest_message({"role": "assistant", "content": [{"text": "[redacted]"}]}, agent)
    assert texts(agent_on(table))[-1] == "[redacted]"
    stored = table.manager().list_messages("s-1", "default")
    assert stored[-1].message["content"][0]["text"].startswith("you said:")  # the original is kept beside it


def test_importing_the_integration_does_not_import_strands():
    import subprocess
    import sys

    code = "import sys, chatstate.strands; assert 'strands' not in sys.modules, 'strands imported'"
    layer = str(Path(__file__).resolve().parents[2] / "layers" / "chatstate")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env={"PYTHONPATH": layer}
    )
    assert done.returncode == 0, done.stderr


def test_a_guardrail_redaction_is_stored_and_the_original_prompt_never_is(table):
    agent = agent_on(table, [guardrail("[blocked prompt]", "I can't help with that.")])
    agent("my card is 4111 1111 1111 1111")
    stored = table.manager().list_messages("s-1", "default")
    assert stored[0].to_message()["content"][0]["text"] == "[blocked prompt]"
    assert not any("4111" in json.dumps(m.to_dict()) for m in stored)
    assert texts(agent_on(table))[0] == "[blocked prompt]"


@tool(context=True)
def book(flight: str, tool_context) -> str:
    """Book a flight once a human approved it."""
    approved = tool_context.interrupt("approval", reason=f"book {flight}?")
    return f"booked {flight}" if approved == "yes" else "not booked"


def test_an_interrupted_tool_turn_resumes_in_a_new_process(table):
    script = [tool_call("book", {"flight": "LH1"}, "t-7"), text("LH1 is booked.")]
    first = Agent(model=ScriptedModel(script), tools=[book], session_manager=table.manager(), callback_handler=None)
    result = first("book LH1")
    assert result.stop_reason == "interrupt"
    (pending,) = result.interrupts

    resumed = Agent(
        model=ScriptedModel(script[1:]), tools=[book], session_manager=table.manager(), callback_handler=None
    )
    answer = resumed([{"interruptResponse": {"interruptId": pending.id, "response": "yes"}}])
    assert str(answer).strip() == "LH1 is booked."
    results = [b["toolResult"] for m in agent_on(table).messages for b in m["content"] if "toolResult" in b]
    assert [r["content"][0]["text"] for r in results] == ["booked LH1"]


def test_a_graphs_state_is_stored_and_read_back(table):
    import warnings

    from strands.multiagent import GraphBuilder

    builder = GraphBuilder()
    builder.add_node(Agent(name="plan", model=ScriptedModel([text("plan ok")]), callback_handler=None), "plan")
    builder.add_node(Agent(name="write", model=ScriptedModel([text("written")]), callback_handler=None), "write")
    builder.add_edge("plan", "write")
    builder.set_session_manager(table.manager("s-graph"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no execution limit set: irrelevant here
        graph = builder.build()
    graph("go")
    state = table.manager("s-graph").read_multi_agent("s-graph", graph.id)
    assert state["status"] == "completed"
    assert state["execution_order"] == ["plan", "write"]
