"""Verifying an OIDC/JWT token (Cognito or any OpenID Connect provider) in a code hook that has no authorizer.

Lex's ``sessionAttributes`` and ``requestAttributes`` are client-writable, so a Lex client proves who
the user is by passing the user's token in the ``TOKEN_REQUEST_ATTRIBUTE`` request attribute, and the
code hook verifies it with ``TokenVerifier``, by the rules the chat API's JWT authorizer (API Gateway)
applies to the same issuer and audience, so both accept the same tokens:

* the keys: the issuer's OpenID discovery document (``<issuer>/.well-known/openid-configuration``)
  names the key set (``jwks_uri``; its ``issuer`` must be the configured one), fetched once per
  execution environment and cached; an unknown ``kid`` refetches it at most once a minute (key
  rotation), and a failed fetch is not retried for ``RETRY_AFTER_FAILURE_SECONDS``. One fetch
  (discovery and keys together) takes at most ``FETCH_TIMEOUT_SECONDS`` in all, less when the
  invocation's budget is shorter, however slowly the server answers;
* the header: an RSA algorithm (RS256/384/512) and a ``kid`` the key set holds;
* the claims: ``exp`` (``nbf``/``iat`` when present), ``iss`` equal to the issuer, ``sub`` a usable
  id (1..256 characters, no control characters), and the audience: ``aud`` (a string or a list)
  contains it, or, only when there is no ``aud``, ``client_id`` equals it (Cognito access tokens).
  Cognito's ``token_use``, when present, must be ``id`` or ``access``; other issuers need none.

``verify`` returns the verified ``Identity`` or ``None`` (no token, a bad one, or the keys could not
be fetched in time): callers then treat the user as anonymous. Reasons are logged by kind only, never
the token or its claims.

Configuration (``IdentitySettings.from_env``): ``TOKEN_ISSUER`` and ``TOKEN_AUDIENCE`` (both empty:
identity is off, every user is anonymous; one without the other is a ``ConfigError``),
``TOKEN_JWKS_URL`` (optional: the key set's URL, skipping discovery, e.g. a loopback server in local
runs).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from chatstate import deadline
from chatstate.exceptions import ConfigError, DeadlineExceeded
from chatstate.models import ActorId

logger = logging.getLogger("chatstate.identity")

TOKEN_REQUEST_ATTRIBUTE = "chatstate.idToken"  # noqa: S105 - an attribute name, not a secret
"""The Lex request attribute that carries the signed-in user's ID (or access) token, every turn."""
ALGORITHMS = ("RS256", "RS384", "RS512")
"""RSA signatures only, as API Gateway's JWT authorizer."""
FETCH_TIMEOUT_SECONDS = 2.0
"""The longest one key fetch (discovery document and key set) may take in all (less when the budget is shorter)."""
REFETCH_INTERVAL_SECONDS = 60.0
"""An unknown ``kid`` refetches the key set at most this often."""
RETRY_AFTER_FAILURE_SECONDS = 30.0
"""After a failed fetch, the keys are not fetched again for this long (turns stay anonymous meanwhile)."""
LEEWAY_SECONDS = 5
"""Clock skew allowed on ``exp``/``nbf``/``iat``."""
MAX_TOKEN_CHARS = 8192
MAX_DOCUMENT_BYTES = 1_000_000
"""The largest discovery document or key set read."""
DISCOVERY_PATH = "/.well-known/openid-configuration"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SUBJECT: TypeAdapter[str] = TypeAdapter(ActorId)

JwksFetcher = Callable[[str, float], bytes]
"""``fetch(url, timeout_seconds) -> body``: GET a JSON document within ``timeout_seconds`` in all."""


@dataclass(frozen=True)
class Identity:
    """A verified user.

    Attributes:
        subject: The token's ``sub`` (the user's stable id at the issuer).
        token_use: Cognito's ``token_use`` claim (``id`` or ``access``), ``None`` for other issuers.
    """

    subject: str
    token_use: str | None = None


class IdentitySettings(BaseModel):
    """Where tokens come from, validated once from the environment."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    issuer: str | None = Field(default=None, alias="TOKEN_ISSUER")
    audience: str | None = Field(default=None, alias="TOKEN_AUDIENCE")
    jwks_url: str | None = Field(default=None, alias="TOKEN_JWKS_URL")

    @field_validator("issuer", "audience", "jwks_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IdentitySettings:
        """Read the environment; an issuer without an audience (or the reverse) is a ``ConfigError``."""
        import os

        try:
            settings = cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as exc:  # pragma: no cover - every field is an optional string
            raise ConfigError("invalid TOKEN_* environment variables") from exc
        if bool(settings.issuer) != bool(settings.audience):
            raise ConfigError("TOKEN_ISSUER and TOKEN_AUDIENCE must be set together (or both left empty)")
        return settings

    def verifier(self, fetch: JwksFetcher | None = None) -> TokenVerifier | None:
        """The verifier these settings describe, or ``None`` when identity is off."""
        if not self.issuer or not self.audience:
            return None
        return TokenVerifier(self.issuer, self.audience, jwks_url=self.jwks_url, fetch=fetch)


def _check_url(url: str) -> Any:
    """``url`` split, if it is HTTPS (or HTTP on loopback); else ``ValueError``."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)
    ):
        raise ValueError("a key URL must be https (or http on loopback)")
    return parts


def fetch_url(url: str, timeout: float) -> bytes:
    """GET ``url`` (HTTPS, or HTTP on loopback) within ``timeout`` seconds in all: connect, headers and body.

    The socket is shut down when the time is up, so a server that trickles its answer cannot hold the
    caller longer than ``timeout`` (a per-read timeout would not stop it). Anything but a 200 answer
    of at most ``MAX_DOCUMENT_BYTES`` raises.
    """
    import http.client
    import ssl

    parts = _check_url(url)
    ends = time.monotonic() + timeout
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    timer: threading.Timer | None = None
    try:
        connection.connect()
        timer = threading.Timer(max(0.0, ends - time.monotonic()), _cut, args=(connection.sock,))
        timer.daemon = True
        timer.start()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"Accept": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")
        body = response.read(MAX_DOCUMENT_BYTES + 1)
        if time.monotonic() >= ends:
            raise TimeoutError("the fetch ran out of time")
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError("the document is too large")
        return body
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= ends and not isinstance(exc, TimeoutError):
            raise TimeoutError("the fetch ran out of time") from exc
        raise
    finally:
        if timer is not None:
            timer.cancel()
        connection.close()


def _cut(sock: Any) -> None:
    """Shut a socket down under a blocked reader (the base class's method: an SSL socket's would race its reader)."""
    import contextlib
    import socket

    with contextlib.suppress(OSError, TypeError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class TokenVerifier:
    """Verifies the tokens of one issuer and audience (see the module docstring).

    Args:
        issuer: The issuer URL exactly as tokens carry it in ``iss`` (a Cognito pool:
            ``https://cognito-idp.<region>.amazonaws.com/<pool id>``).
        audience: The app client id (Cognito) or the API's audience.
        jwks_url: The key set's URL (default: the ``jwks_uri`` of the issuer's discovery document).
        fetch: The document fetcher (tests inject one; default ``fetch_url``).
        clock: Monotonic clock for the refetch and retry intervals.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_url: str | None = None,
        fetch: JwksFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        self.issuer = issuer
        self.audience = audience
        self.discovery_url = issuer.rstrip("/") + DISCOVERY_PATH
        self.jwks_url = jwks_url
        self._fetch = fetch or fetch_url
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._attempted_at: float | None = None
        self._failed = False

    def verify(self, token: str | None) -> Identity | None:
        """The verified identity of ``token``, or ``None`` (anonymous) for anything less."""
        if not token:
            return None
        import jwt

        try:
            if len(token) > MAX_TOKEN_CHARS:
                raise jwt.InvalidTokenError("token too long")
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if algorithm not in ALGORITHMS:
                raise jwt.InvalidAlgorithmError("unexpected algorithm")
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise jwt.InvalidKeyError("no key id")
            key = self._key(kid)
            if key is None:
                raise jwt.InvalidKeyError("unknown key id")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
            return self._identity(claims)
        except jwt.PyJWTError as exc:
            logger.info("token rejected", extra={"reason": type(exc).__name__})
        except (_KeysUnavailable, DeadlineExceeded) as exc:
            logger.warning("token keys unavailable", extra={"reason": type(exc).__name__})
        return None

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        import jwt

        audience = claims.get("aud")
        if audience is not None:
            audiences = [audience] if isinstance(audience, str) else audience
            if not isinstance(audiences, list) or self.audience not in audiences:
                raise jwt.InvalidAudienceError("aud does not name the audience")
        elif claims.get("client_id") != self.audience:
            raise jwt.InvalidAudienceError("neither aud nor client_id names the audience")
        use = claims.get("token_use")
        if use is not None and use not in ("id", "access"):
            raise jwt.InvalidTokenError("token_use is neither id nor access")
        subject = claims.get("sub")
        try:
            subject = _SUBJECT.validate_python(subject)
        except ValidationError:
            raise jwt.InvalidTokenError("sub is not a usable id") from None
        if not subject.strip():
            raise jwt.InvalidTokenError("sub is not a usable id")
        return Identity(subject=subject, token_use=use)

    # -- the key set ---------------------------------------------------------------------------------
    def _key(self, kid: str) -> Any | None:
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            now = self._clock()
            if self._attempted_at is not None:
                wait = RETRY_AFTER_FAILURE_SECONDS if self._failed else REFETCH_INTERVAL_SECONDS
                if now - self._attempted_at < wait:
                    return None
            deadline.check("jwks fetch", needs=0.2)  # too little budget: not an attempt, nothing remembered
            self._attempted_at = now
            try:
                self._keys = self._load()
            except _KeysUnavailable:
                self._failed = True
                raise
            self._failed = False
            return self._keys.get(kid)

    def _load(self) -> dict[str, Any]:
        import jwt

        left = deadline.remaining_seconds()
        budget = FETCH_TIMEOUT_SECONDS if left is None else max(0.1, min(FETCH_TIMEOUT_SECONDS, left - 0.1))
        ends = time.monotonic() + budget
        try:
            if self.jwks_url is None:
                self.jwks_url = self._discover(ends)
            document = self._get(self.jwks_url, ends)
            keys = jwt.PyJWKSet.from_dict(document).keys
        except Exception as exc:  # network, HTTP, JSON or key-format trouble: no keys this time
            raise _KeysUnavailable(type(exc).__name__) from exc
        return {key.key_id: key for key in keys if key.key_id and key.algorithm_name in ALGORITHMS}

    def _discover(self, ends: float) -> str:
        """The ``jwks_uri`` of the issuer's discovery document (whose ``issuer`` must be ours)."""
        document = self._get(self.discovery_url, ends)
        if document.get("issuer") != self.issuer:
            raise ValueError("the discovery document names another issuer")
        uri = document.get("jwks_uri")
        if not isinstance(uri, str):
            raise ValueError("the discovery document has no jwks_uri")
        _check_url(uri)
        return uri

    def _get(self, url: str, ends: float) -> dict[str, Any]:
        left = ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("no time left to fetch the keys")
        document = json.loads(self._fetch(url, left))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        return document


class _KeysUnavailable(Exception):
    """The key set could not be fetched or read."""


__all__ = [
    "TOKEN_REQUEST_ATTRIBUTE",
    "Identity",
    "IdentitySettings",
    "JwksFetcher",
    "TokenVerifier",
    "fetch_url",
]
