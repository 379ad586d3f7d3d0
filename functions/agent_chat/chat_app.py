"""AgentChatFunction: the chat HTTP API (API Gateway HTTP API, payload 2.0) and the direct invoke.

Thin by design: parse the request → call ``chatstate.chat.ChatService`` → shape the response.
Errors are mapped to HTTP once, by exception type (``ERROR_TABLE``), and are always JSON
``{"error": {"code": str, "message": str}}``.

Direct invocation (anything that is not an API Gateway event, e.g. AgentCore-style callers):
``{"message": str, "session_id": str, "actor_id": str, "request_id"?: str}`` →
``{"response": str, "session_id": str, "message_count": int}``. A payload or processing error is
*returned* (not raised) as the same error envelope plus ``"status"`` (the HTTP status it would have
had) and, for retryable errors, ``"retry_after_seconds"``; only unexpected bugs raise.

The resolver is built at import, from one ``Router`` per resource (``chat_routes``); the routes' collaborators come
from the composition root, ``chat_dependencies`` (``dependencies()``), built during Lambda's Init when running in
Lambda (``prepare``), otherwise on first use; tests inject a store and a responder with
``configure(store=..., responder=...)``; ``configure()`` alone rebuilds everything from the environment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from chat_dependencies import ChatDependencies, configure, dependencies, logger, metrics
from chat_routes import ROUTERS
from chat_routes.http import json_response

from chatstate.chat.errors import (
    InvalidRequest,
    PayloadTooLarge,
    ResponderFailed,
    ResponderUnavailable,
    Unauthenticated,
)
from chatstate.deadline import Deadline, within
from chatstate.environment import build_models, in_lambda, init_ahead_of_requests, prepare_clients
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

__all__ = ["ChatDependencies", "app", "configure", "dependencies", "lambda_handler", "logger", "metrics", "routes"]


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

_INTERNAL = ErrorSpec(500, "internal_error", "the request could not be processed")


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


# -- HTTP -------------------------------------------------------------------------------------------
app = APIGatewayHttpResolver()
for _router in ROUTERS:
    app.include_router(_router)

_resolve_lock = threading.Lock()
"""Powertools keeps the current event on the router *class*: HTTP requests are resolved one at a time per process.

Lambda never runs two events at once in one execution environment; this only matters to in-process, threaded
local runners, which stay correct (serialised) instead of mixing up requests."""


def routes() -> frozenset[str]:
    """The resolver's routes as API Gateway route keys (``GET /sessions/{session_id}``): what the template declares."""
    registered = app._static_routes + app._dynamic_routes  # Powertools keeps no public list of its routes
    return frozenset(f"{route.method} {route.openapi_path}" for route in registered)


@app.not_found
def not_found(_exc: NotFoundError) -> Response:
    """A route API Gateway does not know never reaches the function; answered 404 for direct callers of the resolver."""
    _count_error(ErrorSpec(404, "route_not_found"))
    return json_response(404, {"error": {"code": "not_found", "message": "no such route"}})


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
    if spec.status == 503:
        headers["Retry-After"] = str(_retry_after(exc) or 1)
    return json_response(spec.status, body, headers)


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
        result = dependencies().service.invoke(event)
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
            with _resolve_lock:
                return app.resolve(event, context)
        return direct_invoke(event)


def prepare() -> None:
    """Build the service and its clients now (Lambda Init) rather than in the first request.

    When no request waits for this Init (SnapStart's snapshot, provisioned concurrency), the models' schemas are
    built too, so the restored or provisioned environment answers its first request without building them.

    Best effort: if the configuration or the client fails here, the first request builds them again and answers with a
    JSON error if it must.
    """
    try:
        service = dependencies().service
        prepare_clients(service.store, service.responder)
        if init_ahead_of_requests():  # no request waits for this Init: build the schemas now
            build_models("chatstate")
    except Exception as exc:
        logger.error("init: service not prepared; the first request will build it", extra=error_fields(exc))


if in_lambda():
    prepare()
