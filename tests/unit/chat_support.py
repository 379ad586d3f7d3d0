"""Helpers for the agent-chat tests: an injectable clock, event builders and a harness around ``chat_app``."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import chat_app

from chatstate.chat.responders import EchoMemoryResponder, Responder
from chatstate.chat.service import ChatService
from chatstate.store.memory import InMemorySessionStore
from chatstate.store.port import StorePolicy
from devtools.lambda_env import LambdaContext
from tests.wiring import TEST_SETTINGS

EVENTS = Path(__file__).resolve().parents[2] / "events"
EVENT_ACTOR = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
EVENT_SESSION = "s-4f1c2a9e7b3d4c5e"


def load_event(name: str) -> dict[str, Any]:
    """A copy of ``events/<name>.json``."""
    return json.loads((EVENTS / f"{name}.json").read_text())


class Clock:
    """A settable clock for ``StorePolicy(now=...)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)  # strictly increasing, like a real clock
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def chat_context() -> LambdaContext:
    """A Lambda context for AgentChatFunction."""
    return LambdaContext.for_function("AgentChatFunction")


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any] = field(repr=False)

    @property
    def error_code(self) -> str:
        return self.body["error"]["code"]

    @property
    def error_message(self) -> str:
        return self.body["error"]["message"]


def http_event(
    method: str,
    path: str,
    *,
    actor: str | None = "alice",
    body: Any = None,
    raw_body: str | None = None,
    base64_body: bool = False,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, built from ``events/chat_get_session.json`` as a template."""
    event = copy.deepcopy(load_event("chat_get_session"))
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event.pop("pathParameters", None)
    if actor is None:
        event["requestContext"].pop("authorizer", None)
        event["headers"].pop("authorization", None)
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = actor
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is not None:
        event["body"] = base64.b64encode(text.encode()).decode() if base64_body else text
    event["isBase64Encoded"] = base64_body
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    return event


def call(event: dict[str, Any]) -> HttpResult:
    """Invoke the Lambda handler with an HTTP event; decode the JSON body."""
    raw = chat_app.lambda_handler(event, chat_context())
    text = raw.get("body") or ""
    body = json.loads(text) if text else None
    headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    return HttpResult(raw["statusCode"], headers, body, raw)


class ChatHarness:
    """``chat_app`` wired to an in-memory store with an injected clock."""

    def __init__(self, responder: Responder | None = None, *, ttl_seconds: int = 3_600) -> None:
        self.clock = Clock()
        self.store = InMemorySessionStore(policy=StorePolicy(ttl_seconds=ttl_seconds, now=self.clock))
        self.responder = responder or EchoMemoryResponder()
        self.service = self.use(self.responder)

    def use(self, responder: Responder, **parts: Any) -> ChatService:
        """Rewire ``chat_app`` to this harness's store with ``responder`` (and any other ``parts``)."""
        return chat_app.configure(settings=TEST_SETTINGS, store=self.store, responder=responder, **parts).service

    def request(self, method: str, path: str, **kwargs: Any) -> HttpResult:
        return call(http_event(method, path, **kwargs))

    def create(self, actor: str = "alice", state: dict[str, Any] | None = None) -> str:
        result = self.request("POST", "/sessions", actor=actor, body=None if state is None else {"state": state})
        assert result.status == 201, result.body
        return result.body["session_id"]

    def send(self, session_id: str, message: str, *, actor: str = "alice", key: str | None = None) -> HttpResult:
        headers = {"Idempotency-Key": key} if key else None
        return self.request(
            "POST", f"/sessions/{session_id}/messages", actor=actor, body={"message": message}, headers=headers
        )

    def direct(self, payload: Any) -> Any:
        return chat_app.lambda_handler(payload, chat_context())
