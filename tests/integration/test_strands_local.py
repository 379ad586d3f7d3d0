"""StrandsAgentFunction through the run-local CLI, one process per invocation, on one DynamoDB Local.

Every invocation is a new process, so each one restores the agent from the table alone: its messages,
its state (a booking made by a tool) and its conversation-manager state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from chatstate.strands import DynamoDBSessionManager
from devtools.template import REPO_ROOT

pytestmark = pytest.mark.integration


def invoke(event: str, endpoint: str, table: str) -> dict[str, Any]:
    cli = [sys.executable, "-m", "devtools.cli", "--endpoint", endpoint, "--table", table]
    done = subprocess.run(
        [*cli, "invoke", "StrandsAgentFunction", "-e", f"events/{event}.json"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": "layers/chatstate:."},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_invocation_in_a_new_process_resumes_the_session(session_table, ddb_env, ddb_client):
    assert invoke("strands_hello", ddb_env, session_table)["message_count"] == 2
    assert "Seattle" in invoke("strands_find_flights", ddb_env, session_table)["response"]
    booked = invoke("strands_book_flight", ddb_env, session_table)
    assert booked == {"response": "Booked CS123 on 2030-05-14.", "session_id": "strands-demo-1", "message_count": 10}

    manager = DynamoDBSessionManager("strands-demo-1", table_name=session_table, actor_id="ana", client=ddb_client)
    agent = manager.read_agent("strands-demo-1", "default")
    assert agent.state == {"bookings": [{"flight": "CS123", "date": "2030-05-14"}]}
    assert agent.conversation_manager_state["__name__"] == "SlidingWindowConversationManager"
    stored = manager.list_messages("strands-demo-1", "default")
    assert [m.message_id for m in stored] == list(range(10))

    bad = invoke("strands_bad_payload", ddb_env, session_table)
    assert bad["status"] == 400
