"""What every route needs: the caller's identity, the raw body, the session ref and JSON responses."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from chatstate.chat.errors import Unauthenticated
from chatstate.chat.payloads import decode_body
from chatstate.chat.service import ChatService
from chatstate.models import SessionRef


def actor(router: Router) -> str:
    """The caller: the JWT authorizer's ``sub`` claim (no claim → 401)."""
    context = router.current_event.raw_event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    if not isinstance(sub, str) or not sub.strip():
        raise Unauthenticated("no JWT sub claim")
    return sub


def session_ref(router: Router, matched: str) -> SessionRef:
    """The caller's ref to the path's session, validated once (401 / 400) before any I/O.

    The resolver matches the raw, still percent-encoded path; ``pathParameters`` holds the value API Gateway
    decoded, so ``s%3A1`` and ``s:1`` address the same session.
    """
    caller = actor(router)
    params = router.current_event.get("pathParameters") or {}
    return ChatService.ref(caller, params.get("session_id", matched))


def body_bytes(router: Router) -> bytes:
    """The request body, base64-decoded when flagged and size-checked."""
    event = router.current_event
    return decode_body(event.body, is_base64=bool(event.is_base64_encoded))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (compact, UTF-8); ``body=None`` is an empty body without a content type."""
    if body is None:
        return Response(status_code=status, content_type=None, body="", headers=headers)
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        headers=headers,
    )
