"""The local HTTP API turns requests into the payload-2.0 events API Gateway would send."""

from __future__ import annotations

import base64

from devtools.gateway import CompiledRoute, build_http_event, http_result, match_route
from devtools.template import HttpRoute, function_spec

ROUTES = [CompiledRoute.of(route) for route in function_spec("AgentChatFunction").http_routes]


def test_routes_come_from_the_template_and_bind_path_parameters():
    route, params = match_route(ROUTES, "GET", "/sessions/abc/messages")
    assert route.route_key == "GET /sessions/{session_id}/messages"
    assert params == {"session_id": "abc"}
    assert match_route(ROUTES, "PUT", "/sessions/abc") is None
    assert match_route(ROUTES, "GET", "/sessions/abc/messages/extra") is None


def test_event_has_the_payload_2_0_shape_and_the_local_actor_as_jwt_sub():
    route = HttpRoute("POST", "/sessions/{session_id}/messages")
    event = build_http_event(
        route,
        {"session_id": "s1"},
        method="POST",
        raw_path="/sessions/s1/messages",
        raw_query="a=1&a=2&b=",
        headers=[("Content-Type", "application/json"), ("X-Local-Actor", "alice"), ("Cookie", "k=v; x=y")],
        body=b'{"message": "hi"}',
        actor="alice",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /sessions/{session_id}/messages"
    assert event["headers"] == {"content-type": "application/json"}
    assert event["cookies"] == ["k=v", "x=y"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"session_id": "s1"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"message": "hi"}', False)
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["stage"] == "$default"
    assert context["authorizer"]["jwt"]["claims"]["sub"] == "alice"


def test_no_actor_means_no_authorizer_and_binary_bodies_are_base64():
    event = build_http_event(
        HttpRoute("POST", "/sessions"),
        {},
        method="POST",
        raw_path="/sessions",
        headers=[("content-type", "application/octet-stream")],
        body=b"\x00\xff",
    )
    assert "authorizer" not in event["requestContext"]
    assert "pathParameters" not in event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_results_follow_api_gateway_rules():
    result = http_result({"statusCode": 201, "headers": {"content-type": "application/json"}, "body": "{}"})
    assert (result.status, result.body) == (201, b"{}")
    bare = http_result({"hello": "world"})
    assert (bare.status, bare.body) == (200, b'{"hello": "world"}')
    binary = http_result({"statusCode": 200, "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True})
    assert binary.body == b"\x01"
