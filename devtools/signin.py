"""A deployer's way from a fresh stack to a working token: a user in the stack's Cognito pool, and their tokens.

The stack's pool is admin-only (no self sign-up) and its app client speaks SRP to apps. With AWS credentials that
may call ``cognito-idp:AdminCreateUser``, ``AdminSetUserPassword`` and ``AdminInitiateAuth`` on the pool (the
deployer's), this creates the user with the password given if the user is new (verified email, no invitation
mail), and signs in with ``ADMIN_USER_PASSWORD_AUTH``: a server-side flow the app client allows, while no password
flow is open to callers without credentials. It prints the ID token on stdout, so ``TOKEN=$(...)`` works, and how
to use it on stderr: the chat page, ``curl`` and a Lex client (``chatstate.idToken``). See docs/deploying.md.

Usage::

    CHATSTATE_PASSWORD='a-long-Passw0rd' .venv/bin/python -m devtools.signin --stack chatstate-dev \\
        --region us-east-1 --email you@example.com [--access-token]
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import dataclass
from typing import Any

STACK_OUTPUTS = ("UserPoolId", "UserPoolClientId", "ChatApiUrl", "ChatBotId", "ChatBotAliasId")
PASSWORD_ENV = "CHATSTATE_PASSWORD"


class SignInError(Exception):
    """The user could not be signed in; the message says why."""


@dataclass(frozen=True)
class Tokens:
    """What Cognito answered a successful sign-in with."""

    id_token: str
    access_token: str
    expires_in: int


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    """The stack's outputs this needs (``UserPoolId``... ); a stack on an external IdP has no pool to sign in to."""
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}
    if "UserPoolId" not in outputs:
        raise SignInError(f"{stack} has no UserPoolId output: it uses an external identity provider (JwtIssuer)")
    return {key: outputs[key] for key in STACK_OUTPUTS if key in outputs}


def ensure_user(cognito: Any, pool_id: str, email: str, password: str) -> bool:
    """Create ``email`` in the pool with ``password`` (verified email, no mail) unless it exists; ``True`` if new."""
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=email)
        return False
    except cognito.exceptions.UserNotFoundException:
        pass
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    try:
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    except cognito.exceptions.InvalidPasswordException as exc:
        cognito.admin_delete_user(UserPoolId=pool_id, Username=email)
        raise SignInError(f"the pool refuses this password: {exc.response['Error'].get('Message', '')}") from None
    return True


def sign_in(cognito: Any, pool_id: str, client_id: str, email: str, password: str) -> Tokens:
    """Sign ``email`` in with ``ADMIN_USER_PASSWORD_AUTH``; their tokens."""
    try:
        answer = cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except cognito.exceptions.NotAuthorizedException:
        raise SignInError("wrong email or password") from None
    if "AuthenticationResult" not in answer:
        raise SignInError(f"Cognito asks for {answer.get('ChallengeName')}: finish it in your app first")
    result = answer["AuthenticationResult"]
    return Tokens(result["IdToken"], result["AccessToken"], int(result.get("ExpiresIn", 0)))


def usage(outputs: dict[str, str], variable: str = "TOKEN") -> str:
    """How to use the token with the stack's chat API, the chat page and Lex."""
    url = outputs.get("ChatApiUrl", "<ChatApiUrl>")
    bot, alias = outputs.get("ChatBotId", "<ChatBotId>"), outputs.get("ChatBotAliasId", "<ChatBotAliasId>")
    return "\n".join(
        [
            f'curl -H "Authorization: Bearer ${variable}" {url}/profile',
            f"curl -X PATCH -H \"Authorization: Bearer ${variable}\" -H 'content-type: application/json' "
            f'-d \'{{"name": "Ana"}}\' {url}/profile',
            f"aws lexv2-runtime recognize-text --bot-id {bot} --bot-alias-id {alias} --locale-id en_US "
            f'--session-id "$(uuidgen)" --text hello --request-attributes "chatstate.idToken=${variable}"',
            f"chat page: scripts/run-local.sh, then the deployed-API fields: {url} and the token",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stack name (samconfig.toml: chatstate-dev, chatstate-prod)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--email", required=True, help="the user's email (the pool's user name)")
    parser.add_argument("--access-token", action="store_true", help="print the access token instead of the ID token")
    args = parser.parse_args(argv)
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"password for {args.email}: ")
    import boto3

    session = boto3.session.Session(region_name=args.region)
    try:
        outputs = stack_outputs(session.client("cloudformation"), args.stack)
        cognito = session.client("cognito-idp")
        created = ensure_user(cognito, outputs["UserPoolId"], args.email, password)
        tokens = sign_in(cognito, outputs["UserPoolId"], outputs["UserPoolClientId"], args.email, password)
    except SignInError as exc:
        print(f"signin: {exc}", file=sys.stderr)
        return 1
    print(f"signin: {'created and ' if created else ''}signed in {args.email}", file=sys.stderr)
    print(f"signin: the token is valid for {tokens.expires_in} s; use it as $TOKEN:", file=sys.stderr)
    print(usage(outputs), file=sys.stderr)
    print(tokens.access_token if args.access_token else tokens.id_token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
