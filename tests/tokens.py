"""Cognito-shaped tokens signed with locally generated RSA keys, and their JWKS (no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

REGION = "us-east-1"
POOL_ID = "us-east-1_TestPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
CLIENT_ID = "testclient0123456789abcdef"
KID = "test-key-1"


@cache
def private_key(name: str = "pool") -> rsa.RSAPrivateKey:
    """An RSA key per name (``pool``: the pool's; anything else: a forger's or another pool's)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(*names: str, kid: str = KID) -> dict[str, Any]:
    """The JWKS document publishing the public keys of ``names`` (default: the pool's)."""
    keys = []
    for index, name in enumerate(names or ("pool",)):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key(name).public_key()))
        keys.append({**jwk, "kid": kid if index == 0 else f"{kid}-{index}", "alg": "RS256", "use": "sig"})
    return {"keys": keys}


def token(
    sub: str = "user-sub-1",
    *,
    use: str = "id",
    key: str = "pool",
    kid: str = KID,
    issuer: str = ISSUER,
    audience: str = CLIENT_ID,
    expires_in: int = 3600,
    **claims: Any,
) -> str:
    """A Cognito ID (``use="id"``) or access (``use="access"``) token, RS256-signed with ``key``."""
    now = int(time.time())
    body: dict[str, Any] = {"sub": sub, "iss": issuer, "token_use": use, "iat": now, "exp": now + expires_in}
    body["aud" if use == "id" else "client_id"] = audience
    body.update(claims)
    return jwt.encode(body, private_key(key), algorithm="RS256", headers={"kid": kid})


class FakeJwks:
    """An injectable JWKS fetcher that counts fetches and can fail."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document if document is not None else jwks()
        self.fetches: list[tuple[str, float]] = []
        self.error: Exception | None = None

    def __call__(self, url: str, timeout: float) -> bytes:
        self.fetches.append((url, timeout))
        if self.error is not None:
            raise self.error
        return json.dumps(self.document).encode()


@contextmanager
def served_jwks(document: dict[str, Any] | None = None) -> Iterator[tuple[str, list[str]]]:
    """Serve a JWKS on 127.0.0.1: yields (its URL, the paths fetched so far)."""
    body = json.dumps(document if document is not None else jwks()).encode()
    fetched: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", fetched
    finally:
        server.shutdown()
        server.server_close()
