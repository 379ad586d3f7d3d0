"""The caller's conversations and data: ``GET /sessions`` (the list), ``PATCH /sessions/{id}`` (rename),
``GET /me/export`` and ``DELETE /me`` (everything stored for the caller, across channels).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from chat_dependencies import dependencies, logger

from chat_routes.http import actor, body_bytes, json_response, session_ref
from chatstate.chat.conversations import CursorQuery, RenameBody
from chatstate.chat.payloads import MessagePageQuery, parse_json_body, parse_params

router = Router()


@router.get("/sessions")
def list_sessions() -> Response:
    caller = actor(router)
    query = parse_params(MessagePageQuery, router.current_event.query_string_parameters)  # limit, cursor
    page = dependencies().conversations.list(caller, limit=query.limit, cursor=query.cursor)
    return json_response(200, page.model_dump(mode="json"))


@router.patch("/sessions/<session_id>")
def rename_session(session_id: str) -> Response:
    ref = session_ref(router, session_id)
    logger.set_correlation_id(ref.session_id)
    body = parse_json_body(RenameBody, body_bytes(router))
    renamed = dependencies().conversations.rename(ref, body.title)
    logger.info("session renamed")
    return json_response(200, renamed.model_dump(mode="json"))


@router.get("/me/export")
def export_my_data() -> Response:
    caller = actor(router)
    query = parse_params(CursorQuery, router.current_event.query_string_parameters)
    page = dependencies().conversations.export(caller, query.cursor)
    logger.info("data exported", extra={"sessions": len(page["sessions"]), "paged": bool(page["next_cursor"])})
    return json_response(200, page)


@router.delete("/me")
def erase_me() -> Response:
    caller = actor(router)
    query = parse_params(CursorQuery, router.current_event.query_string_parameters)
    receipt = dependencies().conversations.erase(caller, query.cursor)
    logger.info("data erased", extra={"erased": receipt["erased"], "complete": receipt["complete"]})
    return json_response(200, receipt)
