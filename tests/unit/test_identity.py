"""Verifying Cognito tokens with a locally generated RSA key and JWKS (injected fetcher; loopback server once)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from chatstate.deadline import Deadline, within
from chatstate.exceptions import ConfigError
from chatstate.identity import Identity, IdentitySettings, TokenVerifier, fetch_url
from tests.tokens import CLIENT_ID, ISSUER, KID, FakeJwks, jwks, private_key, token


@pytest.fixture
def fetcher() -> FakeJwks:
    return FakeJwks()


@pytest.fixture
def verifier(fetcher) -> TokenVerifier:
    return TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher)


def test_id_and_access_tokens_of_the_pool_verify(verifier, fetcher):
    assert verifier.verify(token("alice")) == Identity("alice", "id")
    assert verifier.verify(token("bob", use="access")) == Identity("bob", "access")
    assert fetcher.fetches == [(f"{ISSUER}/.well-known/jwks.json", pytest.approx(2.0))]  # fetched once, cached


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("forged signature", lambda: token(key="forger")),
        ("expired", lambda: token(expires_in=-60)),
        ("foreign pool", lambda: token(issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
        ("other app client (id token)", lambda: token(audience="someone-else")),
        ("other app client (access token)", lambda: token(use="access", audience="someone-else")),
        ("access token checked by aud only", lambda: token(use="access", audience="x", aud=CLIENT_ID)),
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


def test_missing_required_claims_are_rejected(verifier):
    now_token = jwt.encode(
        {"sub": "x", "iss": ISSUER, "aud": CLIENT_ID, "exp": 9_999_999_999},  # no token_use, no iat
        private_key(),
        algorithm="RS256",
        headers={"kid": KID},
    )
    assert verifier.verify(now_token) is None


def test_unknown_kid_refetches_at_most_once_a_minute():
    fetcher = FakeJwks()
    now = [0.0]
    verifier = TokenVerifier(ISSUER, CLIENT_ID, fetch=fetcher, clock=lambda: now[0])
    assert verifier.verify(token()) is not None
    assert verifier.verify(token(kid="rotated")) is None
    assert len(fetcher.fetches) == 1  # within a minute of the last fetch: no refetch
    now[0] = 61.0
    fetcher.document = jwks("pool", kid="rotated")
    assert verifier.verify(token(kid="rotated")) is not None
    assert len(fetcher.fetches) == 2


def test_unreachable_jwks_is_anonymous_and_retried_later(fetcher, verifier):
    fetcher.error = OSError("down")
    assert verifier.verify(token()) is None
    fetcher.error = None
    assert verifier.verify(token()) is not None


def test_jwks_fetch_is_bounded_by_the_deadline(fetcher, verifier):
    with within(Deadline(0.05)):
        assert verifier.verify(token()) is None  # too little budget left to fetch
    assert fetcher.fetches == []
    with within(Deadline(1.0)):
        assert verifier.verify(token()) is not None
    assert fetcher.fetches[0][1] <= 1.0


def test_settings_from_env():
    assert IdentitySettings.from_env({}).verifier() is None
    settings = IdentitySettings.from_env({"TOKEN_ISSUER": ISSUER + "/", "TOKEN_AUDIENCE": CLIENT_ID})
    built = settings.verifier()
    assert built is not None
    assert built.jwks_url == f"{ISSUER}/.well-known/jwks.json"
    with pytest.raises(ConfigError, match="TOKEN_AUDIENCE"):
        IdentitySettings.from_env({"TOKEN_ISSUER": ISSUER})


def test_fetch_url_refuses_plain_http_beyond_loopback():
    with pytest.raises(ValueError, match="https"):
        fetch_url("http://example.com/jwks.json", 1.0)


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
