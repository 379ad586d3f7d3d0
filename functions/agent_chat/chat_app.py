"""AgentChatFunction: the chat HTTP API (API Gateway HTTP API, payload 2.0) and the direct invoke.

Thin by design: parse the request → call ``chatstate.chat.ChatService`` → shape the response.
Errors are mapped to HTTP once, by exception type (``ERROR_TABLE``), and are always JSON
``{"error": {"code": str, "message": str}}``.

Direct invocation (anything that is not an API Gateway event, e.g. AgentCore-style callers):
``{"message": str, "session_id": str, "actor_id": str, "request_id"?: str}`` →
``{"response": str, "session_id": str, "message_count": int}``. A payload or processing error is
*returned* (not raised) as the same error envelope plus ``"status"`` (the HTTP status it would have
had) and, for retryable errors, ``"retry_after_seconds"``; only unexpected bugs raise.

The resolver, the service and its boto3 clients are built once per execution environment: during Lambda's Init
when running in Lambda (``prepare``), otherwise lazily on first use; tests inject a store and a responder with
``configure(...)`` and undo it with ``reset()``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import conversation_routes
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chatstate.chat.errors import (
    InvalidRequest,
    PayloadTooLarge,
    ResponderFailed,
    ResponderUnavailable,
    Unauthenticated,
)
from chatstate.deadline import Deadline, within
from chatstate.exceptions import (
    ChatSessionError,
    ConflictError,
    IdempotencyKeyReused,
    InvalidCursor,
    ItemTooLarge,
    SessionNotFound,
    StoreUnavailable,
)
from chatstate.logsafe import error_fields, safe_id
from chatstate.runtime import in_lambda, prepare_clients

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

    from chatstate.chat.responders import Responder
    from chatstate.chat.service import ChatService
    from chatstate.profile.port import ProfileStore
    from chatstate.store.port import SessionStore

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "chatstate")


@dataclass(frozen=True)
class ErrorSpec:
    """How one error type is answered: status, stable code, and a public message (``None``: the error's own)."""

    status: int
    code: str
    message: str | None = None


ERROR_TABLE: dict[type[Exception], ErrorSpec] = {
    InvalidRequest: ErrorSpec(400, "bad_request"),
    InvalidCursor: ErrorSpec(400, "bad_request", "cursor: is malformed or belongs to another session"),
    Unauthenticated: ErrorSpec(401, "unauthorized", "a valid identity (JWT sub claim) is required"),
    SessionNotFound: ErrorSpec(404, "not_found", "the session was not found"),
    ConflictError: ErrorSpec(409, "conflict", "the session was changed concurrently; retry the request"),
    PayloadTooLarge: ErrorSpec(413, "payload_too_large"),
    IdempotencyKeyReused: ErrorSpec(
        422, "idempotency_key_reused", "this Idempotency-Key was used with another request"
    ),
    ItemTooLarge: ErrorSpec(413, "payload_too_large", "the session is too large to store this message"),
    ResponderFailed: ErrorSpec(502, "responder_failed", "the model could not produce a reply"),
    ResponderUnavailable: ErrorSpec(503, "responder_unavailable", "the model is busy; retry later"),
    StoreUnavailable: ErrorSpec(503, "store_unavailable", "the session store is busy; retry later"),
    ChatSessionError: ErrorSpec(500, "internal_error", "the request could not be processed"),
}
"""Every chat error's HTTP answer, looked up along the exception's MRO (most specific first)."""

_INTERNAL = ErrorSpec(500, "internal_error", "the request could not be processed")

ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/sessions"),
    ("POST", "/sessions/<session_id>/messages"),
    ("GET", "/sessions/<session_id>"),
    ("GET", "/sessions/<session_id>/messages"),
    ("DELETE", "/sessions/<session_id>"),
    ("GET", "/profile"),
    ("PATCH", "/profile"),
    *conversation_routes.ROUTES,
)
_ROUTE_PATTERNS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = tuple(
    (re.compile("^" + re.sub(r"<\w+>", "[^/]+", path) + "$"), frozenset(m for m, p in ROUTES if p == path))
    for path in dict.fromkeys(p for _, p in ROUTES)
)


def error_spec(exc: BaseException) -> ErrorSpec:
    """The ``ErrorSpec`` of an exception, by type (MRO lookup); unknown exceptions are 500s."""
    for cls in type(exc).__mro__:
        spec = ERROR_TABLE.get(cls)
        if spec is not None:
            return spec
    return _INTERNAL


def error_body(exc: BaseException) -> tuple[ErrorSpec, dict[str, Any]]:
    """The spec and the JSON error envelope for ``exc``."""
    spec = error_spec(exc)
    return spec, {"error": {"code": spec.code, "message": spec.message or str(exc)}}


def _retry_after(exc: BaseException) -> int | None:
    seconds = getattr(exc, "retry_after_seconds", None)
    return max(1, int(seconds)) if isinstance(seconds, int | float) else None


# -- wiring (lazy, once per execution environment) -------------------------------------------------
_lock = threading.Lock()
_resolve_lock = threading.Lock()
"""Powertools keeps the current event on the router *class*: HTTP requests are resolved one at a time per process.

Lambda never runs two events at once in one execution environment; this only matters to in-process, threaded
local runners, which stay correct (serialised) instead of mixing up requests."""
_service: ChatService | None = None
_app: APIGatewayHttpResolver | None = None


def configure(
    *,
    store: SessionStore | None = None,
    responder: Responder | None = None,
    service: ChatService | None = None,
    profiles: ProfileStore | None = None,
) -> ChatService:
    """Build (or set) the service this function uses; missing parts come from settings/runtime."""
    global _service
    if profiles is not None:
        from chatstate.profile.wiring import set_profile_store

        set_profile_store(profiles)
    if service is None:
        from chatstate.chat.service import build_service

        service = build_service(store=store, responder=responder)
    with _lock:
        _service = service
    return service


def reset() -> None:
    """Forget the service and the profile store (the next request rebuilds them from settings)."""
    global _service
    from chatstate.profile.wiring import set_profile_store

    with _lock:
        _service = None
        set_profile_store(None)


def get_service() -> ChatService:
    """The service of this execution environment, built on first use."""
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                from chatstate.chat.service import build_service

                _service = build_service()
    return _service


def get_app() -> APIGatewayHttpResolver:
    """The HTTP resolver with its routes and exception handlers, built on first use."""
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = _build_app()
    return _app


# -- HTTP -------------------------------------------------------------------------------------------
def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    from aws_lambda_powertools.event_handler import Response

    if body is None:
        return Response(status_code=status, content_type=None, body="", headers=headers)
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        headers=headers,
    )


def _build_app() -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError

    from chatstate.chat.payloads import (
        DEFAULT_PAGE_SIZE,
        CreateSessionBody,
        MessagePageView,
        MessageView,
        SendMessageBody,
        SessionCreatedView,
        SessionView,
        decode_body,
        parse_json_body,
    )
    from chatstate.chat.service import ChatService

    app = APIGatewayHttpResolver()

    def actor() -> str:
        """The caller: the JWT authorizer's ``sub`` claim (no claim → 401)."""
        context = app.current_event.raw_event.get("requestContext")
        authorizer = context.get("authorizer") if isinstance(context, dict) else None
        jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
        claims = jwt.get("claims") if isinstance(jwt, dict) else None
        sub = claims.get("sub") if isinstance(claims, dict) else None
        if not isinstance(sub, str) or not sub.strip():
            raise Unauthenticated("no JWT sub claim")
        return sub

    def profile_owner() -> str:
        """The caller's ``sub``, checked as a profile key (unusable → 401)."""
        from chatstate.profile.port import check_subject

        try:
            return check_subject(actor())
        except ValueError:
            raise Unauthenticated("the caller's identity is not valid") from None

    def body_bytes() -> bytes:
        event = app.current_event
        return decode_body(event.body, is_base64=bool(event.is_base64_encoded))

    def session_scope(matched: str) -> str:
        """The session id as API Gateway decoded it (``pathParameters``), validated (400) before any I/O.

        The resolver matches the raw, still percent-encoded path; ``pathParameters`` holds the decoded
        value, so ``s%3A1`` and ``s:1`` address the same session.
        """
        params = app.current_event.path_parameters or {}
        session_id = params.get("session_id", matched)
        ChatService.ref("-", session_id)
        logger.set_correlation_id(session_id)
        return session_id

    def render(model: Any) -> Any:
        return model.model_dump(mode="json")

    @app.post("/sessions")
    def create_session() -> Response:
        caller = actor()
        body = parse_json_body(CreateSessionBody, body_bytes(), optional=True)
        session = get_service().create_session(caller, body.state)
        logger.set_correlation_id(session.session_id)
        logger.info("session created")
        view = SessionCreatedView(
            session_id=session.session_id, created_at=session.created_at, expires_at=session.expires_at
        )
        return _json_response(201, render(view))

    @app.post("/sessions/<session_id>/messages")
    def send_message(session_id: str) -> Response:
        caller = actor()
        session_id = session_scope(session_id)
        body = parse_json_body(SendMessageBody, body_bytes())
        key = app.current_event.headers.get("idempotency-key")
        if key is not None and not re.fullmatch(r"[\x21-\x7e]{1,128}", key):
            raise InvalidRequest("Idempotency-Key", "must be 1..128 printable ASCII characters without spaces")
        turn = get_service().send_message(caller, session_id, body.message, request_id=key)
        if turn.replayed:
            metrics.add_metric(name="ChatRetriesAnswered", unit=MetricUnit.Count, value=1)
        else:
            metrics.add_metric(name="ChatTurns", unit=MetricUnit.Count, value=1)
        logger.info("message answered", extra={"message_count": turn.message_count, "replayed": turn.replayed})
        return _json_response(
            200, {"session_id": turn.session_id, "reply": turn.reply, "message_count": turn.message_count}
        )

    @app.get("/sessions/<session_id>")
    def get_session(session_id: str) -> Response:
        caller = actor()
        session_id = session_scope(session_id)
        return _json_response(200, render(SessionView.of(get_service().get_session(caller, session_id))))

    @app.get("/sessions/<session_id>/messages")
    def list_messages(session_id: str) -> Response:
        caller = actor()
        session_id = session_scope(session_id)
        params = app.current_event.query_string_parameters or {}
        raw_limit = params.get("limit")
        if raw_limit is None or raw_limit == "":
            limit = DEFAULT_PAGE_SIZE
        elif re.fullmatch(r"[0-9]{1,4}", raw_limit):
            limit = int(raw_limit)
        else:
            raise InvalidRequest("limit", "must be an integer from 1 to 100")
        page = get_service().page_messages(caller, session_id, limit=limit, cursor=params.get("cursor"))
        view = MessagePageView(messages=[MessageView.of(m) for m in page.messages], next_cursor=page.next_cursor)
        return _json_response(200, render(view))

    @app.delete("/sessions/<session_id>")
    def delete_session(session_id: str) -> Response:
        caller = actor()
        session_id = session_scope(session_id)
        get_service().delete_session(caller, session_id)
        logger.info("session deleted")
        return _json_response(204, None)

    @app.get("/profile")
    def get_profile() -> Response:
        from chatstate.profile.wiring import get_profile_store

        return _json_response(200, {"profile": get_profile_store().get(profile_owner())})

    @app.patch("/profile")
    def patch_profile() -> Response:
        from chatstate.profile.model import ProfilePatch
        from chatstate.profile.wiring import get_profile_store

        caller = profile_owner()
        patch = parse_json_body(ProfilePatch, body_bytes())
        merged = get_profile_store().merge(caller, patch.changes())
        logger.info("profile merged", extra={"fields": sorted(patch.changes())})
        return _json_response(200, {"profile": merged})

    def conversations() -> Any:
        from chatstate.chat.conversations import build_conversations
        from chatstate.profile.wiring import get_profile_store

        return build_conversations(get_service().store, get_profile_store())

    conversation_routes.register(
        app,
        actor=actor,
        session_scope=session_scope,
        body_bytes=body_bytes,
        respond=_json_response,
        conversations=conversations,
        logger=logger,
    )

    @app.not_found
    def not_found(_exc: NotFoundError) -> Response:
        """Unknown path → 404; a known path with another method → 405 with ``Allow``."""
        path = app.current_event.path
        for pattern, methods in _ROUTE_PATTERNS:
            if pattern.match(path):
                allow = ", ".join(sorted(methods))
                _count_error(ErrorSpec(405, "method_not_allowed"))
                return _json_response(
                    405,
                    {"error": {"code": "method_not_allowed", "message": f"allowed methods: {allow}"}},
                    {"Allow": allow},
                )
        _count_error(ErrorSpec(404, "route_not_found"))
        return _json_response(404, {"error": {"code": "not_found", "message": "no such route"}})

    @app.exception_handler(Exception)
    def handle_error(exc: Exception) -> Response:
        """Every error, mapped once by type to a JSON error (and counted)."""
        spec, body = error_body(exc)
        if spec.status >= 500 and not isinstance(exc, ResponderUnavailable | StoreUnavailable):
            logger.error("request failed", extra={"error_code": spec.code, **error_fields(exc)})
        else:
            logger.info("request rejected", extra={"error_code": spec.code, "status": spec.status})
        _count_error(spec)
        headers: dict[str, str] = {}
        retry_after = _retry_after(exc)
        if spec.status == 503:
            headers["Retry-After"] = str(retry_after or 1)
        return _json_response(spec.status, body, headers)

    return app


def _count_error(spec: ErrorSpec) -> None:
    metrics.add_metric(name="ChatErrors", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"ChatErrors_{spec.code}", unit=MetricUnit.Count, value=1)
    if spec.code == "conflict":
        metrics.add_metric(name="ChatConflicts", unit=MetricUnit.Count, value=1)


# -- direct invoke ----------------------------------------------------------------------------------
def is_http_event(event: Any) -> bool:
    """True for an API Gateway (HTTP API / REST) proxy event."""
    return isinstance(event, dict) and isinstance(event.get("requestContext"), dict)


def direct_invoke(event: Any) -> dict[str, Any]:
    """Answer an AgentCore-style payload; errors are returned as the JSON error envelope."""
    session_id = event.get("session_id") if isinstance(event, dict) else None
    if session_id is not None:
        logger.set_correlation_id(safe_id(session_id))
    try:
        result = get_service().invoke(event)
    except ChatSessionError as exc:
        spec, body = error_body(exc)
        logger.info("direct invoke rejected", extra={"error_code": spec.code, "status": spec.status})
        _count_error(spec)
        body["status"] = spec.status
        retry_after = _retry_after(exc)
        if retry_after is not None:
            body["retry_after_seconds"] = retry_after
        return body
    metrics.add_metric(name="ChatTurns", unit=MetricUnit.Count, value=1)
    logger.info("direct invoke answered", extra={"message_count": result["message_count"]})
    return result


@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: HTTP API events go to the resolver, anything else is a direct invoke."""
    logger.clear_state()
    metrics.add_metric(name="ChatRequests", unit=MetricUnit.Count, value=1)  # also: never an empty metric set
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(request_id=request_id)
    with within(Deadline.from_context(context)):
        if is_http_event(event):
            app = get_app()
            with _resolve_lock:
                return app.resolve(event, context)
        return direct_invoke(event)


def prepare() -> None:
    """Build the resolver, the service and its boto3 clients now (Lambda Init) rather than in the first request.

    Best effort: if the configuration or boto3 fails here, the first request builds them again and answers with a
    JSON error if it must.
    """
    try:
        get_app()
        service = get_service()
        prepare_clients(service.store, service.responder)
    except Exception as exc:
        logger.error("init: service not prepared; the first request will build it", extra=error_fields(exc))


if in_lambda():
    prepare()
