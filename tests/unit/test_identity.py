"""Verifying Cognito and other OIDC tokens with a locally generated RSA key (injected fetcher; loopback servers)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from chatstate.deadline import Deadline, within
from chatstate.exceptions import ConfigError
from chatstate.identity import (
    FETCH_TIMEOUT_SECONDS,
    RETRY_AFTER_FAILURE_SECONDS,
    Identity,
    IdentitySettings,
    TokenVerifier,
    fetch_url,
)
from tests.tokens import CLIENT_ID, ISSUER, KID, FakeJwks, jwks, private_key, served_idp, token


@pytest.fixture
def fetcher() -> FakeJwks:
    return FakeJwks()


@pytest.fixture
def verifier(fetcher) -> TokenVerifier:
    return TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher)


def test_id_and_access_tokens_of_the_pool_verify(verifier, fetcher):
    assert verifier.verify(token("alice")) == Identity("alice", "id")
    assert verifier.verify(token("bob", use="access")) == Identity("bob", "access")
    # the discovery document names the key set; both fetched once (2 s in all), then cached
    assert [url for url, _ in fetcher.fetches] == [
        f"{ISSUER}/.well-known/openid-configuration",
        f"{ISSUER}/.well-known/jwks.json",
    ]
    assert sum(budget for _, budget in fetcher.fetches) <= 2 * FETCH_TIMEOUT_SECONDS
    assert all(budget <= FETCH_TIMEOUT_SECONDS for _, budget in fetcher.fetches)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("forged signature", lambda: token(key="forger")),
        ("expired", lambda: token(expires_in=-60)),
        ("foreign pool", lambda: token(issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
        ("other app client (id token)", lambda: token(audience="someone-else")),
        ("other app client (access token)", lambda: token(use="access", audience="someone-else")),
        ("aud wins over client_id", lambda: token(use="access", audience=CLIENT_ID, aud="someone-else")),
        ("aud list without the client", lambda: token(audience="x", aud=["a", "b"])),
        ("refresh/unknown token_use", lambda: token(use="refresh")),
        ("unknown key id", lambda: token(kid="nope")),
        ("HS256 with the public key as secret", lambda: jwt.encode({"sub": "x"}, "secret" * 8, algorithm="HS256")),
        ("alg none", lambda: jwt.encode({"sub": "x", "iss": ISSUER}, None, algorithm="none")),
        ("garbage", lambda: "not.a.token"),
        ("empty", lambda: ""),
    ],
)
def test_bad_tokens_are_anonymous(verifier, name, bad):
    assert verifier.verify(bad()) is None, name


def signed(claims: dict, *, kid: str | None = KID, algorithm: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, private_key(), algorithm=algorithm, headers=headers)


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": ISSUER, "aud": CLIENT_ID, "exp": 9_999_999_999},
        {"sub": "x", "aud": CLIENT_ID, "exp": 9_999_999_999},
        {"sub": "x", "iss": ISSUER, "aud": CLIENT_ID},
        {"sub": "x", "iss": ISSUER, "exp": 9_999_999_999},
    ],
    ids=["no sub", "no iss", "no exp", "no audience"],
)
def test_missing_required_claims_are_rejected(verifier, claims):
    assert verifier.verify(signed(claims)) is None


def test_a_token_without_kid_is_rejected(verifier):
    claims = {"sub": "x", "iss": ISSUER, "aud": CLIENT_ID, "exp": 9_999_999_999}
    assert verifier.verify(signed(claims, kid=None)) is None


@pytest.mark.parametrize(
    "subject",
    ["alice\x00", "line\nbreak", "\x1b[31mred", " ", "x" * 257, 42],
    ids=["nul", "newline", "escape", "blank", "too long", "not a string"],
)
def test_a_signed_token_with_an_unusable_sub_is_refused(verifier, subject):
    assert verifier.verify(token(subject)) is None


def test_tokens_of_any_oidc_issuer_verify_like_api_gateway():
    issuer = "https://login.example.com/tenant-1/"  # trailing slash kept: iss must equal it exactly
    fetcher = FakeJwks(issuer=issuer, jwks_uri="https://keys.example.com/tenant-1/oauth2/keys")
    verifier = TokenVerifier(issuer, "api://chat", fetch=fetcher)
    plain = {"iss": issuer, "iat": 1, "exp": 9_999_999_999}
    assert verifier.verify(signed({**plain, "sub": "auth0|a", "aud": "api://chat"})) == Identity("auth0|a")
    assert verifier.verify(signed({**plain, "sub": "b", "aud": ["other", "api://chat"]})) == Identity("b")
    assert verifier.verify(signed({**plain, "sub": "c", "client_id": "api://chat"})) == Identity("c")
    assert verifier.verify(signed({**plain, "sub": "d", "aud": "api://chat"}, algorithm="RS512")) is None  # key: RS256
    assert verifier.verify(signed({**plain, "sub": "e", "aud": ["other"]})) is None
    assert verifier.verify(signed({**plain, "iss": issuer.rstrip("/"), "sub": "f", "aud": "api://chat"})) is None
    assert [url for url, _ in fetcher.fetches] == [
        "https://login.example.com/tenant-1/.well-known/openid-configuration",
        "https://keys.example.com/tenant-1/oauth2/keys",
    ]


def test_a_discovery_document_of_another_issuer_gives_no_keys():
    fetcher = FakeJwks(issuer="https://evil.example.com")
    assert TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher).verify(token()) is None
    assert fetcher.key_fetches == []


def test_a_jwks_uri_that_is_not_https_gives_no_keys():
    fetcher = FakeJwks(jwks_uri="http://keys.example.com/jwks.json")
    assert TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher).verify(token()) is None
    assert fetcher.key_fetches == []


def test_unknown_kid_refetches_at_most_once_a_minute():
    fetcher = FakeJwks()
    now = [0.0]
    verifier = TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher, clock=lambda: now[0])
    assert verifier.verify(token()) is not None
    assert verifier.verify(token(kid="rotated")) is None
    assert len(fetcher.key_fetches) == 1  # within a minute of the last fetch: no refetch
    now[0] = 61.0
    fetcher.document = jwks("pool", kid="rotated")
    assert verifier.verify(token(kid="rotated")) is not None
    assert len(fetcher.key_fetches) == 2
    assert len(fetcher.fetches) == 3  # the discovery document is read once


def test_a_failed_fetch_is_remembered_and_retried_later():
    fetcher = FakeJwks()
    now = [0.0]
    verifier = TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher, clock=lambda: now[0])
    fetcher.error = TimeoutError("the key server hangs")
    assert verifier.verify(token()) is None
    assert len(fetcher.fetches) == 1
    for now[0] in (1.0, 10.0, RETRY_AFTER_FAILURE_SECONDS - 1):  # every turn meanwhile: anonymous, no fetch
        assert verifier.verify(token()) is None
    assert len(fetcher.fetches) == 1
    fetcher.error = None
    now[0] = RETRY_AFTER_FAILURE_SECONDS
    assert verifier.verify(token()) is not None
    assert len(fetcher.key_fetches) == 1


def test_jwks_fetch_is_bounded_by_the_deadline(fetcher, verifier):
    with within(Deadline(0.05)):
        assert verifier.verify(token()) is None  # too little budget left to fetch
    assert fetcher.fetches == []
    with within(Deadline(1.0)):
        assert verifier.verify(token()) is not None
    assert all(budget <= 1.0 for _, budget in fetcher.fetches)


def test_settings_from_env():
    assert IdentitySettings.from_env({}).verifier() is None
    settings = IdentitySettings.from_env({"TOKEN_ISSUER": ISSUER + "/", "TOKEN_AUDIENCE": CLIENT_ID})
    built = settings.verifier()
    assert built is not None
    assert built.discovery_url == f"{ISSUER}/.well-known/openid-configuration"
    assert built.jwks_url is None  # discovered
    with pytest.raises(ConfigError, match="TOKEN_AUDIENCE"):
        IdentitySettings.from_env({"TOKEN_ISSUER": ISSUER})
    with pytest.raises(ConfigError, match="TOKEN_ISSUER"):
        IdentitySettings.from_env({"TOKEN_AUDIENCE": CLIENT_ID})


def test_fetch_url_refuses_plain_http_beyond_loopback():
    with pytest.raises(ValueError, match="https"):
        fetch_url("http://example.com/jwks.json", 1.0)


def test_the_default_fetcher_discovers_the_keys_of_a_loopback_provider():
    with served_idp(keys_path="/oauth2/v1/keys") as idp:
        verifier = TokenVerifier(idp.issuer, "api://chat")
        claims = {"sub": "okta-user", "iss": idp.issuer, "aud": ["api://chat"], "exp": 9_999_999_999}
        assert verifier.verify(signed(claims)) == Identity("okta-user")
        assert idp.fetched == ["/tenant-1/.well-known/openid-configuration", "/oauth2/v1/keys"]


def test_a_trickling_key_server_cannot_hold_a_turn_past_the_fetch_budget():
    with served_idp(trickle_seconds=0.25) as idp:  # the key set (~500 bytes) would take minutes
        keys_url = idp.issuer.replace("/tenant-1/", "/oauth2/v1/keys")
        verifier = TokenVerifier(idp.issuer, CLIENT_ID, jwks_url=keys_url)
        started = time.monotonic()
        with within(Deadline(8.0)):
            assert verifier.verify(token(issuer=idp.issuer)) is None
        took = time.monotonic() - started
        assert took < FETCH_TIMEOUT_SECONDS + 1.0
        started = time.monotonic()
        assert verifier.verify(token(issuer=idp.issuer)) is None  # the failure is remembered: no second wait
        assert time.monotonic() - started < 0.5
        assert idp.fetched.count("/oauth2/v1/keys") == 1


def test_default_fetcher_reads_a_loopback_jwks():
    body = json.dumps(jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        verifier = TokenVerifier(ISSUER, CLIENT_ID, jwks_url=url)
        assert verifier.verify(token("carol")) == Identity("carol", "id")
    finally:
        server.shutdown()
        server.server_close()
