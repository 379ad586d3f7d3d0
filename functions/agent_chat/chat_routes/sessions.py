"""``/sessions``: create a session, send a message, read a session, page its messages, delete it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from chat_dependencies import dependencies, logger, metrics

from chat_routes.http import actor, body_bytes, json_response, session_ref
from chatstate.chat.payloads import (
    CreateSessionBody,
    MessagePageQuery,
    MessagePageView,
    MessageView,
    SendMessageBody,
    SendMessageHeaders,
    SessionCreatedView,
    SessionView,
    parse_json_body,
    parse_params,
)

router = Router()


@router.post("/sessions")
def create_session() -> Response:
    caller = actor(router)
    body = parse_json_body(CreateSessionBody, body_bytes(router), optional=True)
    session = dependencies().service.create_session(caller, body.state)
    logger.set_correlation_id(session.session_id)
    logger.info("session created")
    view = SessionCreatedView(
        session_id=session.session_id, created_at=session.created_at, expires_at=session.expires_at
    )
    return json_response(201, view.model_dump(mode="json"))


@router.post("/sessions/<session_id>/messages")
def send_message(session_id: str) -> Response:
    ref = session_ref(router, session_id)
    logger.set_correlation_id(ref.session_id)
    body = parse_json_body(SendMessageBody, body_bytes(router))
    headers = parse_params(SendMessageHeaders, {k.lower(): v for k, v in router.current_event.headers.items()})
    turn = dependencies().service.send_message(ref, body.message, request_id=headers.idempotency_key)
    metrics.add_metric(name="ChatRetriesAnswered" if turn.replayed else "ChatTurns", unit=MetricUnit.Count, value=1)
    logger.info("message answered", extra={"message_count": turn.message_count, "replayed": turn.replayed})
    return json_response(200, {"session_id": turn.session_id, "reply": turn.reply, "message_count": turn.message_count})


@router.get("/sessions/<session_id>")
def get_session(session_id: str) -> Response:
    ref = session_ref(router, session_id)
    logger.set_correlation_id(ref.session_id)
    return json_response(200, SessionView.of(dependencies().service.get_session(ref)).model_dump(mode="json"))


@router.get("/sessions/<session_id>/messages")
def list_messages(session_id: str) -> Response:
    ref = session_ref(router, session_id)
    logger.set_correlation_id(ref.session_id)
    query = parse_params(MessagePageQuery, router.current_event.query_string_parameters)
    page = dependencies().service.page_messages(ref, limit=query.limit, cursor=query.cursor)
    view = MessagePageView(messages=[MessageView.of(m) for m in page.messages], next_cursor=page.next_cursor)
    return json_response(200, view.model_dump(mode="json"))


@router.delete("/sessions/<session_id>")
def delete_session(session_id: str) -> Response:
    ref = session_ref(router, session_id)
    logger.set_correlation_id(ref.session_id)
    dependencies().service.delete_session(ref)
    logger.info("session deleted")
    return json_response(204, None)
