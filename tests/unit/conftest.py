"""Unit-test fixtures shared by the chat tests."""

from __future__ import annotations

from collections.abc import Iterator

import chat_app
import pytest

from tests.unit.chat_support import ChatHarness


@pytest.fixture
def chat() -> Iterator[ChatHarness]:
    """The chat function wired to an in-memory store and the built-in responder; reset afterwards."""
    harness = ChatHarness()
    yield harness
    chat_app.configure()
