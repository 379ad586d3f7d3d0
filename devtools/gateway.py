"""API Gateway HTTP API (payload format 2.0), reproduced for the chat function: route matching, the event API
Gateway would build, and the HTTP response it would send back. Routes come from the template's HttpApi events.

API Gateway answers some requests itself, without invoking the function, and so does this gateway: a path or
method no route matches gets ``404 {"message":"Not Found"}``, a function that raises gets
``500 {"message":"Internal Server Error"}``, and a CORS preflight is answered from ``ChatApi``'s
``CorsConfiguration``.

LOCAL ONLY: there is no JWT authorizer. The ``X-Local-Actor`` request header stands in for a verified token: its
value becomes ``requestContext.authorizer.jwt.claims.sub``. Without it the gateway answers 401 itself, as the
authorizer would, with a message naming the header (:data:`NO_ACTOR`); the function is not invoked.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.lambda_env import LocalFunction
from devtools.template import LOCAL_ACCOUNT, HttpRoute, Resolver, load_template

ACTOR_HEADER = "x-local-actor"
"""LOCAL ONLY identity header: its value plays the JWT ``sub`` claim. API Gateway never passes such a thing."""
NOT_FOUND = {"message": "Not Found"}
"""What API Gateway HTTP API answers (404) for a path or method no route matches."""
NO_ACTOR = {
    "error": {
        "code": "unauthorized",
        "message": "no X-Local-Actor header: locally it stands in for the JWT (send 'X-Local-Actor: <user id>')",
    }
}
"""LOCAL ONLY: the 401 for a request without ``X-Local-Actor`` (on AWS the JWT authorizer answers it)."""
_TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|x-www-form-urlencoded|[\w.+-]+\+(json|xml)))", re.IGNORECASE)


@dataclass(frozen=True)
class CompiledRoute:
    """A template route (``GET /sessions/{session_id}``) and the regex matching concrete paths."""

    route: HttpRoute
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: HttpRoute) -> CompiledRoute:
        parts = re.split(r"(\{[A-Za-z0-9_]+\+?\})", route.path)
        regex = "".join(
            (f"(?P<{p[1:-2]}>.+)" if p.endswith("+}") else f"(?P<{p[1:-1]}>[^/]+)")
            if p.startswith("{")
            else re.escape(p)
            for p in parts
        )
        return cls(route, re.compile(f"^{regex}$"))


def match_route(routes: list[CompiledRoute], method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
    """The route for ``method path`` and its path parameters, or ``None`` (API Gateway answers 404)."""
    for compiled in routes:
        if compiled.route.method in (method, "ANY"):
            match = compiled.pattern.match(path)
            if match:
                return compiled.route, match.groupdict()
    return None


def build_http_event(
    route: HttpRoute,
    path_parameters: Mapping[str, str],
    *,
    method: str,
    raw_path: str,
    raw_query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    actor: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event as API Gateway would build it for this request."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers or []:
        key = name.lower()
        if key == ACTOR_HEADER:
            continue  # local-only stand-in for the authorizer; the function never sees it as a header
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT,
        "apiId": "local",
        "domainName": merged.get("host", "127.0.0.1"),
        "domainPrefix": merged.get("host", "127.0.0.1").split(".")[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if actor:
        request_context["authorizer"] = {
            "jwt": {"claims": {"sub": actor, "iss": "local-only", "token_use": "local"}, "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        if _TEXT_TYPES.match(merged.get("content-type", "application/json")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


@dataclass
class HttpResult:
    """What API Gateway sends back to the client for a function's return value."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_result(response: Any) -> HttpResult:
    """Translate a payload-2.0 function result (API Gateway rules: a bare value is a 200 JSON body)."""
    if not isinstance(response, dict) or "statusCode" not in response:
        body = response if isinstance(response, str) else json.dumps(response)
        return HttpResult(200, [("content-type", "application/json")], body.encode())
    headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in response.get("cookies") or []]
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode()
    return HttpResult(int(response["statusCode"]), headers, body)


def _json_result(status: int, payload: Any) -> HttpResult:
    return HttpResult(status, [("content-type", "application/json")], json.dumps(payload).encode())


class ChatApiGateway:
    """Routes HTTP requests to the chat function the way ChatApi would (routes from the template's HttpApi events)."""

    def __init__(self, function: LocalFunction, cors: Mapping[str, Any] | None = None) -> None:
        self.function = function
        self.routes = [CompiledRoute.of(route) for route in function.spec.http_routes]
        self.cors = dict(cors or {})

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str = "127.0.0.1"
    ) -> HttpResult:
        """One request → one invocation → the HTTP response."""
        parts = urlsplit(target)
        path = parts.path or "/"
        if method == "OPTIONS" and self.cors and any(k.lower() == "access-control-request-method" for k, _ in headers):
            return HttpResult(204, self._cors_headers(), b"")
        found = match_route(self.routes, method, path)
        if found is None:
            return _json_result(404, NOT_FOUND)
        route, params = found
        actor = next((v.strip() for k, v in headers if k.lower() == ACTOR_HEADER and v.strip()), None)
        if actor is None:
            return self._with_cors(_json_result(401, NO_ACTOR))
        event = build_http_event(
            route, params, method=method, raw_path=path, raw_query=parts.query, headers=headers, body=body,
            actor=actor, source_ip=source_ip,
        )  # fmt: skip
        try:
            result = http_result(self.function.invoke(event))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _json_result(500, {"message": "Internal Server Error"})
        return self._with_cors(result)

    def _with_cors(self, result: HttpResult) -> HttpResult:
        if self.cors:
            result.headers += self._cors_headers(preflight=False)
        return result

    def _cors_headers(self, *, preflight: bool = True) -> list[tuple[str, str]]:
        origins = self.cors.get("AllowOrigins") or ["*"]
        headers = [("access-control-allow-origin", str(origins[0]))]
        if preflight:
            headers += [
                ("access-control-allow-methods", ",".join(self.cors.get("AllowMethods") or [])),
                ("access-control-allow-headers", ",".join(self.cors.get("AllowHeaders") or [])),
                ("access-control-max-age", str(self.cors.get("MaxAge", 0))),
            ]
        elif self.cors.get("ExposeHeaders"):
            headers.append(("access-control-expose-headers", ",".join(self.cors["ExposeHeaders"])))
        return headers


def chat_cors() -> dict[str, Any]:
    """``ChatApi``'s CorsConfiguration from the template, intrinsics resolved."""
    template = load_template()
    props = template["Resources"].get("ChatApi", {}).get("Properties", {})
    cors = Resolver(template).resolve(props.get("CorsConfiguration") or {})
    return cors if isinstance(cors, dict) else {}  # no CorsAllowedOrigin: the template drops the configuration
