"""Verifying a Cognito user pool token (ID or access) in a code hook that has no authorizer in front of it.

Lex's ``sessionAttributes`` and ``requestAttributes`` are client-writable, so a Lex client proves who
the user is by passing the user's Cognito token in the ``TOKEN_REQUEST_ATTRIBUTE`` request attribute,
and the code hook verifies it with ``TokenVerifier``:

* signature: RS256 against the pool's JWKS (``<issuer>/.well-known/jwks.json``), fetched once per
  execution environment and cached; an unknown ``kid`` refetches it at most once a minute (key
  rotation); each fetch is bounded by the invocation's deadline;
* ``exp`` (and ``iat``), ``iss`` equal to the pool's issuer URL;
* ``token_use`` ``id`` (then ``aud`` must be the app client id) or ``access`` (then ``client_id``
  must be); those are Cognito's rules for its two token kinds.

``verify`` returns the verified ``Identity`` or ``None`` (no token, a bad one, or the keys could not
be fetched in time): callers then treat the user as anonymous. Reasons are logged by kind only, never
the token or its claims.

Configuration (``IdentitySettings.from_env``): ``TOKEN_ISSUER`` (empty: identity is off, every user is
anonymous), ``TOKEN_AUDIENCE`` (the app client id), ``TOKEN_JWKS_URL`` (optional override of the
JWKS location, e.g. a loopback server in local runs).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatstate import deadline
from chatstate.exceptions import ConfigError

logger = logging.getLogger("chatstate.identity")

TOKEN_REQUEST_ATTRIBUTE = "chatstate.idToken"  # noqa: S105 - an attribute name, not a secret
"""The Lex request attribute that carries the signed-in user's Cognito ID (or access) token, every turn."""
ALGORITHMS = ("RS256",)
FETCH_TIMEOUT_SECONDS = 2.0
"""The longest a JWKS fetch may take (less when the invocation's budget is shorter)."""
REFETCH_INTERVAL_SECONDS = 60.0
"""An unknown ``kid`` refetches the JWKS at most this often."""
LEEWAY_SECONDS = 5
"""Clock skew allowed on ``exp``/``iat``."""
MAX_TOKEN_CHARS = 8192

JwksFetcher = Callable[[str, float], bytes]
"""``fetch(url, timeout_seconds) -> body``; the default uses ``urllib`` over HTTPS."""


@dataclass(frozen=True)
class Identity:
    """A verified user.

    Attributes:
        subject: The token's ``sub`` (the Cognito user's stable id).
        token_use: ``id`` or ``access``.
    """

    subject: str
    token_use: str


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
        """Read the environment; an issuer without an audience is a ``ConfigError``."""
        import os

        try:
            settings = cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as exc:  # pragma: no cover - every field is an optional string
            raise ConfigError("invalid TOKEN_* environment variables") from exc
        if settings.issuer and not settings.audience:
            raise ConfigError("TOKEN_ISSUER is set but TOKEN_AUDIENCE is not")
        return settings

    def verifier(self, fetch: JwksFetcher | None = None) -> TokenVerifier | None:
        """The verifier these settings describe, or ``None`` when identity is off."""
        if not self.issuer or not self.audience:
            return None
        return TokenVerifier(self.issuer, self.audience, jwks_url=self.jwks_url, fetch=fetch)


def fetch_url(url: str, timeout: float) -> bytes:
    """GET ``url`` (HTTPS, or HTTP on loopback for local runs) with a timeout."""
    import urllib.request

    if not (url.startswith("https://") or url.startswith(("http://127.0.0.1", "http://localhost"))):
        raise ValueError("the JWKS URL must be https (or http on loopback)")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
        data: bytes = response.read(1_000_000)
        return data


class TokenVerifier:
    """Verifies Cognito user pool tokens of one issuer and app client (see the module docstring).

    Args:
        issuer: The pool's issuer URL, ``https://cognito-idp.<region>.amazonaws.com/<pool id>``.
        audience: The app client id.
        jwks_url: Where the pool's keys are (default ``<issuer>/.well-known/jwks.json``).
        fetch: The JWKS fetcher (tests inject one; default ``fetch_url``).
        clock: Monotonic clock for the refetch interval.
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
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks.json"
        self._fetch = fetch or fetch_url
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None

    def verify(self, token: str | None) -> Identity | None:
        """The verified identity of ``token``, or ``None`` (anonymous) for anything less."""
        if not token:
            return None
        import jwt

        try:
            if len(token) > MAX_TOKEN_CHARS:
                raise jwt.InvalidTokenError("token too long")
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise jwt.InvalidAlgorithmError("unexpected algorithm")
            key = self._key(str(header.get("kid") or ""))
            if key is None:
                raise jwt.InvalidKeyError("unknown key id")
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
            return self._identity(claims)
        except jwt.PyJWTError as exc:
            logger.info("token rejected", extra={"reason": type(exc).__name__})
        except (_KeysUnavailable, deadline.DeadlineExceeded) as exc:
            logger.warning("token keys unavailable", extra={"reason": type(exc).__name__})
        return None

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        import jwt

        use = claims.get("token_use")
        if use == "id":
            if claims.get("aud") != self.audience:
                raise jwt.InvalidAudienceError("aud is not the app client")
        elif use == "access":
            if claims.get("client_id") != self.audience:
                raise jwt.InvalidAudienceError("client_id is not the app client")
        else:
            raise jwt.InvalidTokenError("token_use is neither id nor access")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 256:
            raise jwt.InvalidTokenError("sub is not a usable id")
        return Identity(subject=subject, token_use=str(use))

    # -- the key set ---------------------------------------------------------------------------------
    def _key(self, kid: str) -> Any | None:
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            fresh = self._fetched_at is None or self._clock() - self._fetched_at >= REFETCH_INTERVAL_SECONDS
            if not fresh:
                return None
            self._keys = self._load()
            self._fetched_at = self._clock()
            return self._keys.get(kid)

    def _load(self) -> dict[str, Any]:
        import jwt

        deadline.check("jwks fetch", needs=0.2)
        left = deadline.remaining_seconds()
        timeout = FETCH_TIMEOUT_SECONDS if left is None else max(0.1, min(FETCH_TIMEOUT_SECONDS, left - 0.1))
        try:
            document = json.loads(self._fetch(self.jwks_url, timeout))
            keys = jwt.PyJWKSet.from_dict(document).keys
        except Exception as exc:  # network, HTTP, JSON or key-format trouble: no keys this time
            raise _KeysUnavailable(type(exc).__name__) from exc
        return {key.key_id: key for key in keys if key.key_id and key.algorithm_name in ALGORITHMS}


class _KeysUnavailable(Exception):
    """The JWKS could not be fetched or read."""


__all__ = [
    "TOKEN_REQUEST_ATTRIBUTE",
    "Identity",
    "IdentitySettings",
    "JwksFetcher",
    "TokenVerifier",
    "fetch_url",
]
