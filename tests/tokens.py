"""Cognito-shaped tokens signed with locally generated RSA keys, and their JWKS (no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


def private_key(name: str = "pool") -> rsa.RSAPrivateKey:
    """An RSA key per name (``pool``: the pool's; anything else: a forger's or another pool's)."""
    return _private_key(name)


@cache
def _private_key(name: str) -> rsa.RSAPrivateKey:
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
    """An injectable document fetcher: the issuer's discovery document and its key set; counts fetches, can fail."""

    def __init__(self, document: dict[str, Any] | None = None, *, issuer: str = ISSUER, jwks_uri: str | None = None):
        self.document = document if document is not None else jwks()
        self.discovery = {"issuer": issuer, "jwks_uri": jwks_uri or f"{issuer.rstrip('/')}/.well-known/jwks.json"}
        self.fetches: list[tuple[str, float]] = []
        self.error: Exception | None = None

    @property
    def key_fetches(self) -> list[tuple[str, float]]:
        """The fetches of the key set (discovery left out)."""
        return [fetch for fetch in self.fetches if not fetch[0].endswith(DISCOVERY_SUFFIX)]

    def __call__(self, url: str, timeout: float) -> bytes:
        self.fetches.append((url, timeout))
        if self.error is not None:
            raise self.error
        return json.dumps(self.discovery if url.endswith(DISCOVERY_SUFFIX) else self.document).encode()


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


@dataclass
class ServedIdp:
    """A loopback OpenID provider: its issuer URL and the paths fetched so far."""

    issuer: str
    fetched: list[str]


@contextmanager
def served_idp(
    *, tenant: str = "/tenant-1/", keys_path: str = "/oauth2/v1/keys", trickle_seconds: float = 0.0
) -> Iterator[ServedIdp]:
    """Serve an OpenID provider on 127.0.0.1 whose key set is *not* at ``<issuer>/.well-known/jwks.json``.

    The issuer ends with ``/`` (as Auth0's do). With ``trickle_seconds``, the key set is sent one byte at a
    time with that pause between bytes (a slow or hostile key server).
    """
    body = json.dumps(jwks()).encode()
    fetched: list[str] = []
    stop = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    issuer = f"http://127.0.0.1:{server.server_address[1]}{tenant}"
    discovery = json.dumps({"issuer": issuer, "jwks_uri": f"http://127.0.0.1:{server.server_address[1]}{keys_path}"})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            if self.path == tenant.rstrip("/") + DISCOVERY_SUFFIX:
                payload = discovery.encode()
            elif self.path == keys_path:
                payload = body
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            try:
                if not trickle_seconds or self.path != keys_path:
                    self.wfile.write(payload)
                    return
                for index in range(len(payload)):
                    if stop.wait(trickle_seconds):
                        return
                    self.wfile.write(payload[index : index + 1])
                    self.wfile.flush()
            except OSError:  # the client gave up
                return

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ServedIdp(issuer, fetched)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
