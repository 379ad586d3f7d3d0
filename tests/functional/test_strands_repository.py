"""Strands' own repository behaviours (its File/S3 session manager test cases) on ``DynamoDBSessionManager``.

Run on the in-memory twin, on moto and, as integration tests, on DynamoDB Local.
"""

from __future__ import annotations

from unittest.mock import Mock

import pytest
from strands.agent.conversation_manager.null_conversation_manager import NullConversationManager
from strands.types.content import ContentBlock
from strands.types.exceptions import SessionException
from strands.types.session import Session, SessionAgent, SessionMessage, SessionType

from chatstate.strands import SessionConflict
from tests.strands_kit import StrandsTable, strands_table_fixture

table = strands_table_fixture()


@pytest.fixture
def repo(table: StrandsTable):
    return table.manager("test")


@pytest.fixture
def sample_session() -> Session:
    return Session(session_id="test-session-123", session_type=SessionType.AGENT)


@pytest.fixture
def sample_agent() -> SessionAgent:
    manager_state = NullConversationManager().get_state()
    return SessionAgent(agent_id="test-agent-456", state={"key": "value"}, conversation_manager_state=manager_state)


@pytest.fixture
def sample_message() -> SessionMessage:
    message = {"role": "user", "content": [ContentBlock(text="test_message")]}
    return SessionMessage.from_message(message=message, index=0)


@pytest.fixture
def with_agent(repo, sample_session, sample_agent):
    repo.create_session(sample_session)
    repo.create_agent(sample_session.session_id, sample_agent)
    return repo


def test_create_and_read_session(repo, sample_session):
    assert repo.create_session(sample_session) == sample_session
    found = repo.read_session(sample_session.session_id)
    assert (found.session_id, found.session_type) == (sample_session.session_id, sample_session.session_type)


def test_create_session_already_exists(repo, sample_session):
    repo.create_session(sample_session)
    with pytest.raises(SessionException):
        repo.create_session(sample_session)


def test_read_nonexistent_session(repo):
    assert repo.read_session("nonexistent-session") is None


def test_delete_session(with_agent, sample_session, sample_agent, sample_message):
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    with_agent.delete_session(sample_session.session_id)
    assert with_agent.read_session(sample_session.session_id) is None
    assert with_agent.read_agent(sample_session.session_id, sample_agent.agent_id) is None


def test_delete_nonexistent_session(repo):
    with pytest.raises(SessionException):
        repo.delete_session("nonexistent-session")


def test_create_and_read_agent(with_agent, sample_session, sample_agent):
    found = with_agent.read_agent(sample_session.session_id, sample_agent.agent_id)
    assert found.agent_id == sample_agent.agent_id
    assert found.state == sample_agent.state
    assert found.conversation_manager_state == sample_agent.conversation_manager_state


def test_read_nonexistent_agent(repo, sample_session):
    repo.create_session(sample_session)
    assert repo.read_agent(sample_session.session_id, "nonexistent_agent") is None


def test_update_agent(with_agent, sample_session, sample_agent):
    created = with_agent.read_agent(sample_session.session_id, sample_agent.agent_id).created_at
    sample_agent.state = {"updated": "value"}
    with_agent.update_agent(sample_session.session_id, sample_agent)
    found = with_agent.read_agent(sample_session.session_id, sample_agent.agent_id)
    assert found.state == {"updated": "value"}
    assert found.created_at == created


def test_update_nonexistent_agent(repo, sample_session, sample_agent):
    repo.create_session(sample_session)
    with pytest.raises(SessionException):
        repo.update_agent(sample_session.session_id, sample_agent)


def test_create_and_read_message(with_agent, sample_session, sample_agent, sample_message):
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    found = with_agent.read_message(sample_session.session_id, sample_agent.agent_id, sample_message.message_id)
    assert found.message_id == sample_message.message_id
    assert found.message["role"] == sample_message.message["role"]
    assert found.message["content"] == sample_message.message["content"]


def test_read_nonexistent_message(with_agent, sample_session, sample_agent):
    assert with_agent.read_message(sample_session.session_id, sample_agent.agent_id, 999) is None


def test_bytes_in_a_message_round_trip(with_agent, sample_session, sample_agent):
    image = {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": b"\x89PNG\x00\xff"}}}]}
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, SessionMessage.from_message(image, 0))
    found = with_agent.read_message(sample_session.session_id, sample_agent.agent_id, 0)
    assert found.message["content"][0]["image"]["source"]["bytes"] == b"\x89PNG\x00\xff"


def _messages(repo, session_id, agent_id, count):
    for index in range(count):
        message = SessionMessage({"role": "user", "content": [ContentBlock(text=f"Message {index}")]}, index)
        repo.create_message(session_id, agent_id, message)


def test_list_messages_all(with_agent, sample_session, sample_agent):
    _messages(with_agent, sample_session.session_id, sample_agent.agent_id, 5)
    found = with_agent.list_messages(sample_session.session_id, sample_agent.agent_id)
    assert [m.message["content"][0]["text"] for m in found] == [f"Message {i}" for i in range(5)]


def test_list_messages_with_pagination(with_agent, sample_session, sample_agent):
    _messages(with_agent, sample_session.session_id, sample_agent.agent_id, 10)
    assert len(with_agent.list_messages(sample_session.session_id, sample_agent.agent_id, limit=3)) == 3
    tail = with_agent.list_messages(sample_session.session_id, sample_agent.agent_id, offset=5)
    assert [m.message_id for m in tail] == [5, 6, 7, 8, 9]
    page = with_agent.list_messages(sample_session.session_id, sample_agent.agent_id, limit=2, offset=3)
    assert [m.message_id for m in page] == [3, 4]


def test_list_messages_of_unknown_agent_is_empty(repo, sample_session):
    repo.create_session(sample_session)
    assert repo.list_messages(sample_session.session_id, "nobody") == []


def test_update_message(with_agent, sample_session, sample_agent, sample_message):
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    created = with_agent.read_message(sample_session.session_id, sample_agent.agent_id, 0).created_at
    sample_message.message["content"] = [ContentBlock(text="Updated content")]
    with_agent.update_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    found = with_agent.read_message(sample_session.session_id, sample_agent.agent_id, sample_message.message_id)
    assert found.message["content"][0]["text"] == "Updated content"
    assert found.created_at == created


def test_update_message_redacts(with_agent, sample_session, sample_agent, sample_message):
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    sample_message.redact_message = {"role": "user", "content": [ContentBlock(text="[redacted]")]}
    with_agent.update_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    found = with_agent.read_message(sample_session.session_id, sample_agent.agent_id, 0)
    assert found.to_message()["content"][0]["text"] == "[redacted]"
    assert found.message["content"][0]["text"] == "test_message"


def test_update_nonexistent_message(with_agent, sample_session, sample_agent, sample_message):
    with pytest.raises(SessionException):
        with_agent.update_message(sample_session.session_id, sample_agent.agent_id, sample_message)


def test_create_message_never_overwrites(with_agent, sample_session, sample_agent, sample_message):
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    again = SessionMessage.from_message({"role": "user", "content": [ContentBlock(text="other")]}, 0)
    with pytest.raises(SessionConflict):
        with_agent.create_message(sample_session.session_id, sample_agent.agent_id, again)
    found = with_agent.read_message(sample_session.session_id, sample_agent.agent_id, 0)
    assert found.message["content"][0]["text"] == "test_message"


def test_two_repositories_writing_one_message_id(table, sample_session, sample_agent):
    first, second = table.manager("test"), table.manager("test")
    first.create_session(sample_session)
    first.create_agent(sample_session.session_id, sample_agent)
    second.read_agent(sample_session.session_id, sample_agent.agent_id)  # both know the agent as it is now
    mine = SessionMessage.from_message({"role": "user", "content": [ContentBlock(text="mine")]}, 0)
    theirs = SessionMessage.from_message({"role": "user", "content": [ContentBlock(text="theirs")]}, 0)
    first.create_message(sample_session.session_id, sample_agent.agent_id, mine)
    with pytest.raises(SessionConflict):
        second.create_message(sample_session.session_id, sample_agent.agent_id, theirs)
    stored = first.list_messages(sample_session.session_id, sample_agent.agent_id)
    assert [m.message["content"][0]["text"] for m in stored] == ["mine"]


@pytest.mark.parametrize("session_id", ["a/../b", "a/b", "a\\b", ""])
def test_invalid_session_id(repo, session_id):
    with pytest.raises(ValueError, match="id cannot contain path separators"):
        repo.read_session(session_id)


@pytest.mark.parametrize("agent_id", ["a/../b", "a/b"])
def test_invalid_agent_id(repo, agent_id):
    with pytest.raises(ValueError, match="id cannot contain path separators"):
        repo.read_agent("session1", agent_id)


@pytest.mark.parametrize("message_id", ["../../../secret", "not_an_int", None, [], -1])
def test_invalid_message_id(repo, message_id):
    with pytest.raises(ValueError, match=r"message_id=<.*> \| message id must be an integer"):
        repo.read_message("session1", "agent1", message_id)


@pytest.fixture
def multi_agent():
    mock = Mock()
    mock.id = "test-multi-agent"
    mock.serialize_state.return_value = {"id": "test-multi-agent", "state": {"key": "value"}}
    return mock


def test_create_and_read_multi_agent(repo, sample_session, multi_agent):
    repo.create_session(sample_session)
    repo.create_multi_agent(sample_session.session_id, multi_agent)
    found = repo.read_multi_agent(sample_session.session_id, multi_agent.id)
    assert found == {"id": "test-multi-agent", "state": {"key": "value"}}


def test_read_nonexistent_multi_agent(repo, sample_session):
    repo.create_session(sample_session)
    assert repo.read_multi_agent(sample_session.session_id, "nonexistent") is None


def test_update_multi_agent(repo, sample_session, multi_agent):
    repo.create_session(sample_session)
    repo.create_multi_agent(sample_session.session_id, multi_agent)
    multi_agent.serialize_state.return_value = {"id": multi_agent.id, "state": {"updated": "value"}}
    repo.update_multi_agent(sample_session.session_id, multi_agent)
    assert repo.read_multi_agent(sample_session.session_id, multi_agent.id)["state"] == {"updated": "value"}


def test_update_nonexistent_multi_agent(repo, sample_session, multi_agent):
    repo.create_session(sample_session)
    with pytest.raises(SessionException):
        repo.update_multi_agent(sample_session.session_id, multi_agent)


def test_concurrent_multi_agent_update_is_refused(table, sample_session, multi_agent):
    first, second = table.manager("test"), table.manager("test")
    first.create_session(sample_session)
    first.create_multi_agent(sample_session.session_id, multi_agent)
    second.read_multi_agent(sample_session.session_id, multi_agent.id)
    first.update_multi_agent(sample_session.session_id, multi_agent)
    with pytest.raises(SessionConflict):
        second.update_multi_agent(sample_session.session_id, multi_agent)


def test_expired_items_are_absent(table, sample_session, sample_agent, sample_message):
    repo = table.manager("test")
    repo.create_session(sample_session)
    repo.create_agent(sample_session.session_id, sample_agent)
    repo.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    table.clock.advance(10 * 3600)
    assert repo.read_session(sample_session.session_id) is None
    assert repo.read_agent(sample_session.session_id, sample_agent.agent_id) is None
    assert repo.read_message(sample_session.session_id, sample_agent.agent_id, 0) is None
    assert repo.list_messages(sample_session.session_id, sample_agent.agent_id) == []
    repo.create_session(sample_session)  # an expired session can be created again


def test_actors_never_see_each_other(table, sample_session, sample_agent):
    alice, bob = table.manager("test", actor_id="alice"), table.manager("test", actor_id="bob")
    alice.create_session(sample_session)
    alice.create_agent(sample_session.session_id, sample_agent)
    assert bob.read_session(sample_session.session_id) is None
    assert bob.read_agent(sample_session.session_id, sample_agent.agent_id) is None
    bob.create_session(sample_session)  # bob's own session of the same id


def test_every_item_has_a_ttl_in_the_strands_key_space(with_agent, table, sample_session, sample_agent, sample_message):
    with_agent.create_message(sample_session.session_id, sample_agent.agent_id, sample_message)
    stored = table.items()
    assert stored
    assert all(i["pk"]["S"].startswith("S") for i in stored)
    assert all("expires_at" in i for i in stored)


def test_a_corrupt_item_is_a_session_exception(table, sample_session):
    repo = table.manager("test")
    repo.create_session(sample_session)
    (record,) = table.items()
    table.put_raw({**record, "d": {"S": "{"}})
    with pytest.raises(SessionException):
        repo.read_session(sample_session.session_id)


def test_update_agent_after_many_messages_keeps_created_at_and_reads_few_pages(table, sample_session, sample_agent):
    writer = table.manager("test")
    writer.create_session(sample_session)
    writer.create_agent(sample_session.session_id, sample_agent)
    created = writer.read_agent(sample_session.session_id, sample_agent.agent_id).created_at
    _messages(writer, sample_session.session_id, sample_agent.agent_id, 30)
    table.requests.take()
    fresh = table.manager("test")  # another process: it knows nothing of the agent yet
    sample_agent.state = {"after": "30 messages"}
    fresh.update_agent(sample_session.session_id, sample_agent)
    requests = table.requests.take()  # the newest turn, then pages back to the snapshot: not one Query per turn
    assert requests[-1] == "PutItem"
    assert requests.count("Query") <= 3
    found = fresh.read_agent(sample_session.session_id, sample_agent.agent_id)
    assert found.state == {"after": "30 messages"}
    assert found.created_at == created
