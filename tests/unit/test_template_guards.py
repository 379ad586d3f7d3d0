"""template.yaml refuses what would deploy wrongly: half an identity provider, a remote "local" endpoint."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools.template import Resolver, load_template

TEMPLATE = load_template()
PARAMETERS = TEMPLATE["Parameters"]
FOUNDATION = "anthropic.claude-3-5-haiku-20241022-v1:0"


def allowed(name: str, value: str) -> bool:
    spec = PARAMETERS[name]
    pattern = spec.get("AllowedPattern")
    fits = pattern is None or re.fullmatch(pattern, value) is not None
    return fits and len(value) <= int(spec.get("MaxLength", 1 << 30))


def rule_holds(**values: str) -> bool:
    resolver = Resolver(TEMPLATE, parameter_overrides=values)
    return all(
        bool(resolver.resolve(assertion["Assert"]))
        for rule in TEMPLATE["Rules"].values()
        for assertion in rule["Assertions"]
    )


@pytest.mark.parametrize(
    ("issuer", "audience", "accepted"),
    [
        ("", "", True),  # the stack's own Cognito pool
        ("https://login.example.com/tenant-1/", "api://chat", True),
        ("https://login.example.com/tenant-1/", "", False),  # would silently create a pool
        ("", "api://chat", False),
    ],
)
def test_jwt_issuer_and_audience_come_together_or_not_at_all(issuer, audience, accepted):
    assert rule_holds(JwtIssuer=issuer, JwtAudience=audience) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", True),
        ("https://dev-123.okta.com/oauth2/default", True),
        ("http://login.example.com/", False),  # API Gateway only accepts https issuers
        ("https://login.example.com/ tenant", False),
    ],
)
def test_jwt_issuer_must_be_an_https_url(value, accepted):
    assert allowed("JwtIssuer", value) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("http://host.docker.internal:8000", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000/", True),
        ("https://dynamodb.attacker.example.com", False),
        ("http://10.0.0.5:8000", False),
        ("http://host.docker.internal.evil.com:8000", False),
    ],
)
def test_the_local_dynamodb_endpoint_cannot_point_a_deployed_function_elsewhere(value, accepted):
    assert allowed("LocalDynamoDBEndpoint", value) is accepted


def intrinsic_names(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(intrinsic_names(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set(value) | set().union(*(intrinsic_names(v) for v in value.values()))
    return set()


def test_conditions_use_only_the_functions_cloudformation_documents_for_them():
    documented = {"Fn::And", "Fn::Equals", "Fn::If", "Fn::Not", "Fn::Or", "Fn::FindInMap", "Ref", "Condition"}
    documented |= {"Fn::Select", "Fn::Split"}  # inside Fn::Equals, always in range (Select 0)
    for name, expression in TEMPLATE["Conditions"].items():
        assert intrinsic_names(expression) <= documented, name


@pytest.mark.parametrize("model_id", ["", FOUNDATION, "amazon.titan-text-lite-v1", f"us.{FOUNDATION}"])
def test_every_select_on_the_model_id_is_in_range_for_every_form(model_id):
    """Both branches of the Bedrock policy resolve for each accepted form, not only the one that is taken."""
    resolver = Resolver(TEMPLATE, parameter_overrides={"BedrockModelId": model_id})
    policy = TEMPLATE["Resources"]["BedrockConversePolicy"]["Properties"]["PolicyDocument"]
    for statement in policy["Statement"]:
        for branch in statement["Fn::If"][1:]:
            resolver.resolve(branch)  # an out-of-range Select raises IndexError


@pytest.mark.parametrize(
    "overrides",
    [{}, {"JwtIssuer": "https://login.example.com/tenant-1/", "JwtAudience": "api://chat"}],
    ids=["stack-pool", "external-idp"],
)
def test_lex_and_the_api_trust_the_same_issuer_and_audience(overrides):
    resolver = Resolver(
        TEMPLATE, refs={"UserPool": "us-east-1_Pool", "UserPoolClient": "client-1"}, parameter_overrides=overrides
    )
    jwt = TEMPLATE["Resources"]["ChatApi"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]
    lex_env = TEMPLATE["Resources"]["LexFulfillmentFunction"]["Properties"]["Environment"]["Variables"]
    assert resolver.resolve(lex_env["TOKEN_ISSUER"]) == resolver.resolve(jwt["issuer"])
    assert [resolver.resolve(lex_env["TOKEN_AUDIENCE"])] == resolver.resolve(jwt["audience"])
    if overrides:
        assert resolver.resolve(jwt["issuer"]) == overrides["JwtIssuer"]
        assert not resolver.condition("CreateUserPool")
