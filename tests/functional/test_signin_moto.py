"""From a fresh stack to a working token (docs/deploying.md), on moto's Cognito: the pool and app client as
template.yaml defines them, the deployer's sign-in (devtools.signin), and the token working for the chat API's
rules and for a Lex turn (the same verifier), end to end except for AWS itself.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from lex_bot.intents import router

from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex import LexRuntime
from chatstate.lex.profile_link import ProfileLink
from chatstate.profile import InMemoryProfileStore
from chatstate.store.memory import InMemorySessionStore
from devtools import signin
from devtools.template import Resolver, load_template
from tests.lexkit import assert_valid, fixed_now, load_event, messages_text
from tests.tokens import FakeJwks

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

REGION = "us-east-1"
EMAIL = "deployer@example.com"
PASSWORD = "Correct-Horse-42-battery"


def template_properties(logical_id: str) -> dict[str, Any]:
    template = load_template()
    return Resolver(template, refs={"UserPool": "pool"}).resolve(template["Resources"][logical_id]["Properties"])


@pytest.fixture
def cognito(fake_aws_env) -> Any:
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("cognito-idp", region_name=REGION)


@pytest.fixture
def stack(cognito) -> dict[str, str]:
    """What a fresh `sam deploy` creates: UserPool and UserPoolClient with template.yaml's properties."""
    pool = template_properties("UserPool")
    pool_id = cognito.create_user_pool(
        PoolName=pool.pop("UserPoolName"),
        **{k: pool[k] for k in ("Policies", "UsernameAttributes", "AutoVerifiedAttributes", "AdminCreateUserConfig")},
    )["UserPool"]["Id"]
    client = template_properties("UserPoolClient")
    client.pop("UserPoolId")
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, **client)["UserPoolClient"]["ClientId"]
    return {
        "UserPoolId": pool_id,
        "UserPoolClientId": client_id,
        "ChatApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com",
        "ChatBotId": "CHATBOT01",
        "ChatBotAliasId": "LIVEALIAS1",
    }


@pytest.fixture
def verifier(stack) -> TokenVerifier:
    """The verifier the Lex function builds from TOKEN_ISSUER/TOKEN_AUDIENCE, fed moto's published keys."""
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{stack['UserPoolId']}"
    import moto.cognitoidp

    keys_file = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    keys = json.loads(gzip.decompress(keys_file.read_bytes()))
    return TokenVerifier(issuer, stack["UserPoolClientId"], fetch=FakeJwks(keys, issuer=issuer))


@pytest.fixture
def deployed(stack, monkeypatch):
    class CloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            assert StackName == "chatstate-dev"
            return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in stack.items()]}]}

    real_client = boto3.session.Session.client

    def client(self, name, *args, **kwargs):
        return CloudFormation() if name == "cloudformation" else real_client(self, name, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", client)
    monkeypatch.setenv(signin.PASSWORD_ENV, PASSWORD)
    return stack


def run_signin(capsys, *extra: str) -> tuple[int, str, str]:
    status = signin.main(["--stack", "chatstate-dev", "--region", REGION, "--email", EMAIL, *extra])
    captured = capsys.readouterr()
    return status, captured.out.strip(), captured.err


def test_the_app_client_allows_the_deployers_admin_flow_and_no_plain_password_flow():
    flows = template_properties("UserPoolClient")["ExplicitAuthFlows"]
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in flows
    assert "ALLOW_USER_PASSWORD_AUTH" not in flows
    assert "ALLOW_USER_SRP_AUTH" in flows


def test_a_fresh_stack_to_a_token_the_api_and_lex_accept(deployed, verifier, capsys):
    status, token, err = run_signin(capsys)
    assert status == 0
    assert f"created and signed in {EMAIL}" in err
    assert f"{deployed['ChatApiUrl']}/profile" in err  # the curl line
    assert "chatstate.idToken=$TOKEN" in err  # the Lex client line

    identity = verifier.verify(token)  # the ID token: aud = the app client
    assert identity is not None
    assert identity.token_use == "id"

    # The chat API's actor is this sub; a Lex client passing the token gets the same user's profile.
    profiles = InMemoryProfileStore()
    profiles.merge(identity.subject, {"name": "Dana", "language": "de"})
    bot = LexRuntime(router, store=InMemorySessionStore(), now=fixed_now, profiles=ProfileLink(verifier, profiles))
    event = load_event("lex_greeting")
    event["requestAttributes"] = {TOKEN_REQUEST_ATTRIBUTE: token}
    assert messages_text(assert_valid(bot.handle(event))).startswith("Hallo, Dana!")


def test_the_access_token_works_too(deployed, verifier, capsys):
    status, token, _ = run_signin(capsys, "--access-token")
    assert status == 0
    identity = verifier.verify(token)  # no aud: client_id is the app client
    assert identity is not None
    assert identity.token_use == "access"


def test_signing_in_again_reuses_the_user_and_a_wrong_password_is_refused(deployed, verifier, capsys, monkeypatch):
    first = run_signin(capsys)
    again = run_signin(capsys)
    assert again[0] == 0
    assert "created" not in again[2]
    assert verifier.verify(again[1]).subject == verifier.verify(first[1]).subject
    monkeypatch.setenv(signin.PASSWORD_ENV, "Wrong-password-123")
    status, token, err = run_signin(capsys)
    assert (status, token) == (1, "")
    assert "wrong email or password" in err


def test_a_stack_on_an_external_identity_provider_has_no_pool_to_sign_in_to():
    class CloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            return {"Stacks": [{"Outputs": [{"OutputKey": "ChatApiUrl", "OutputValue": "https://x"}]}]}

    with pytest.raises(signin.SignInError, match="external identity provider"):
        signin.stack_outputs(CloudFormation(), "chatstate-dev")
