"""``ScriptedModel``: a Strands ``Model`` that answers from a script, for offline runs and tests (no Bedrock).

The script is either a list of assistant messages, played in order, or a function of the conversation
that returns the next assistant message. A message with ``toolUse`` blocks makes the agent run those
tools, exactly as a real model's tool request does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from strands.models import Model
from strands.types.content import Message, Messages


@dataclass(frozen=True)
class Guardrail:
    """A scripted guardrail intervention: the user's prompt is stored as ``user_replacement``, ``reply`` answers."""

    user_replacement: str
    reply: Message


Step = Message | Guardrail
"""One scripted model turn: an assistant message, or a guardrail intervention."""
Script = Sequence[Step] | Callable[[Messages], Step]


class ScriptedModel(Model):
    """Replies with scripted assistant messages, streamed as a model provider streams them.

    Args:
        script: Assistant messages to play in order, or a function of the messages so far returning the next.
    """

    def __init__(self, script: Script) -> None:
        self._script = script
        self._played = 0
        self.calls = 0

    def update_config(self, **model_config: Any) -> None:
        """Nothing to configure."""

    def get_config(self) -> dict[str, Any]:
        """An empty configuration."""
        return {}

    async def structured_output(self, *args: Any, **kwargs: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Not scripted: raises ``NotImplementedError``."""
        raise NotImplementedError("ScriptedModel does not produce structured output")
        yield {}  # pragma: no cover

    def _next(self, messages: Messages) -> Step:
        if callable(self._script):
            return self._script(messages)
        if self._played >= len(self._script):
            raise RuntimeError("the script has no more replies")
        reply = self._script[self._played]
        self._played += 1
        return reply

    async def stream(self, messages: Messages, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        """Stream the next scripted message as model events."""
        self.calls += 1
        for event in _events(self._next(messages)):
            yield event


def _events(step: Step) -> Iterable[dict[str, Any]]:
    stop = "end_turn"
    yield {"messageStart": {"role": "assistant"}}
    if isinstance(step, Guardrail):
        yield {"redactContent": {"redactUserContentMessage": step.user_replacement}}
        stop, message = "guardrail_intervened", step.reply
    else:
        message = step
    for block in message["content"]:
        if "text" in block:
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": block["text"]}}}
            yield {"contentBlockStop": {}}
        elif "toolUse" in block:
            stop = "tool_use"
            use = block["toolUse"]
            yield {"contentBlockStart": {"start": {"toolUse": {"name": use["name"], "toolUseId": use["toolUseId"]}}}}
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(use["input"])}}}}
            yield {"contentBlockStop": {}}
    yield {"messageStop": {"stopReason": stop}}


def text(reply: str) -> Message:
    """An assistant message with one text block."""
    return {"role": "assistant", "content": [{"text": reply}]}


def guardrail(user_replacement: str, reply: str) -> Guardrail:
    """A guardrail that blocks the prompt: the stored prompt becomes ``user_replacement``, the answer ``reply``."""
    return Guardrail(user_replacement, text(reply))


def tool_call(name: str, tool_input: dict[str, Any], tool_use_id: str) -> Message:
    """An assistant message asking for one tool call."""
    return {
        "role": "assistant",
        "content": [{"toolUse": {"name": name, "toolUseId": tool_use_id, "input": tool_input}}],
    }
