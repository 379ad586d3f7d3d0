"""The caller's conversations and data: GET /sessions, PATCH /sessions/{id}, GET /me/export, DELETE /me.

Thin: parse → ``chatstate.chat.conversations.Conversations`` → JSON. Errors propagate to the resolver's one
exception handler (the same JSON envelope and statuses as every other route).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

    from chatstate.chat.conversations import Conversations

ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/sessions"),
    ("PATCH", "/sessions/<session_id>"),
    ("GET", "/me/export"),
    ("DELETE", "/me"),
)


def register(
    app: APIGatewayHttpResolver,
    *,
    actor: Callable[[], str],
    session_scope: Callable[[str], str],
    body_bytes: Callable[[], bytes],
    respond: Callable[[int, Any], Response],
    conversations: Callable[[], Conversations],
    logger: Any,
) -> None:
    """Add the four routes to ``app`` (the caller's identity, path and body helpers come from the function)."""
    from chatstate.chat.conversations import RenameBody, parse_limit
    from chatstate.chat.payloads import parse_json_body

    def query(name: str) -> str | None:
        return (app.current_event.query_string_parameters or {}).get(name)

    @app.get("/sessions")
    def list_sessions() -> Response:
        caller = actor()
        page = conversations().list(caller, limit=parse_limit(query("limit")), cursor=query("cursor"))
        return respond(200, page.model_dump(mode="json"))

    @app.patch("/sessions/<session_id>")
    def rename_session(session_id: str) -> Response:
        caller = actor()
        session_id = session_scope(session_id)
        body = parse_json_body(RenameBody, body_bytes())
        renamed = conversations().rename(caller, session_id, body.title)
        logger.info("session renamed")
        return respond(200, renamed.model_dump(mode="json"))

    @app.get("/me/export")
    def export_my_data() -> Response:
        caller = actor()
        page = conversations().export(caller, query("cursor"))
        logger.info("data exported", extra={"sessions": len(page["sessions"]), "paged": bool(page["next_cursor"])})
        return respond(200, page)

    @app.delete("/me")
    def erase_me() -> Response:
        caller = actor()
        receipt = conversations().erase(caller, query("cursor"))
        logger.info("data erased", extra={"erased": receipt["erased"], "complete": receipt["complete"]})
        return respond(200, receipt)
