"""The verified user's profile inside a Lex turn: read before the handlers run, merged after.

Only for a turn whose request attribute ``TOKEN_REQUEST_ATTRIBUTE`` holds a token the
``TokenVerifier`` accepts; otherwise (no token, a bad one, identity off, or a bot without shared
fields) the turn is anonymous and no profile is read or written.

Shared fields belong to the identity that supplied them. On a verified user's turn, each ``Shared()``
attribute of the bot is exactly the profile's value (a field the profile lacks, or a value the bot
cannot accept, is the attribute's default): never what the client sent, nor what the Lex session kept
from someone else. After the handlers ran, the shared attributes they changed are merged into the
profile (only values the profile schema accepts), so what the user sets through Lex is what the chat
API's ``GET /profile`` returns, and a ``PATCH /profile`` (a cleared field included) is what the next
Lex turn sees.

A verified turn does not keep shared values in the durable Lex session; it records the owner instead
(``OWNER_KEY``: a digest of the subject, never the subject). The next anonymous turn of that Lex
session, on a shared device for instance, then ignores the shared values Lex echoes back (they were
the signed-in user's) and starts from the session's own anonymous values or the defaults.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chatstate.attributes import SessionAttributes
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex.models import LexEvent
from chatstate.profile.model import Shared, profile_fields, valid_changes
from chatstate.profile.port import ProfileStore

logger = logging.getLogger("chatstate.lex.profile")

OWNER_KEY = "~profile_owner"
"""Durable Lex session state key: whose profile the shared attributes Lex holds came from (absent: anonymous)."""


def owner_tag(subject: str) -> str:
    """The ``OWNER_KEY`` value of a verified subject: a digest, so the session never stores the user id."""
    return hashlib.sha256(subject.encode()).hexdigest()[:24]


def _shared(verified: VerifiedProfile | None, model: type[SessionAttributes]) -> tuple[str, ...]:
    return verified.fields if verified is not None else shared_fields(model)


def shared_fields(model: type[SessionAttributes]) -> tuple[str, ...]:
    """The bot's attributes marked ``Shared()``; each must be a profile field (else ``TypeError``)."""
    names = tuple(n for n, info in model.model_fields.items() if any(isinstance(m, Shared) for m in info.metadata))
    unknown = sorted(set(names) - profile_fields())
    if unknown:
        raise TypeError(f"{model.__name__}: Shared() fields {unknown} are not fields of chatstate.profile.Profile")
    return names


@dataclass(frozen=True)
class VerifiedProfile:
    """The turn's verified user and their stored profile, read once per turn (before any run of it)."""

    subject: str
    fields: tuple[str, ...]
    profile: dict[str, Any]


@dataclass
class LinkedProfile:
    """A verified user's profile as the turn started (``before``: the shared attributes' state values)."""

    subject: str
    fields: tuple[str, ...]
    before: dict[str, Any]


class ProfileLink:
    """Connects a Lex turn to the verified user's profile.

    Args:
        verifier: The token verifier (or a factory called once; it may return ``None``: identity off).
        profiles: The profile store (or a factory called once, on the first verified turn).
        attribute: The request attribute holding the token.
    """

    def __init__(
        self,
        verifier: TokenVerifier | Callable[[], TokenVerifier | None] | None,
        profiles: ProfileStore | Callable[[], ProfileStore],
        *,
        attribute: str = TOKEN_REQUEST_ATTRIBUTE,
    ) -> None:
        self._verifier = verifier
        self._verifier_ready = not callable(verifier)
        self._profiles = profiles
        self.attribute = attribute

    @property
    def verifier(self) -> TokenVerifier | None:
        """The verifier (built on first use), or ``None`` when identity is off."""
        if not self._verifier_ready:
            self._verifier = self._verifier()  # type: ignore[operator,misc]
            self._verifier_ready = True
        return self._verifier  # type: ignore[return-value]

    @property
    def profiles(self) -> ProfileStore:
        """The profile store (built on first use)."""
        if not isinstance(self._profiles, ProfileStore):
            self._profiles = self._profiles()
        return self._profiles

    def verify(self, event: LexEvent, attributes_type: type[SessionAttributes]) -> VerifiedProfile | None:
        """Verify the turn's token and read the user's profile (``None``: anonymous turn, nothing read)."""
        token = (event.request_attributes or {}).get(self.attribute)
        if not token:
            return None
        fields = shared_fields(attributes_type)
        verifier = self.verifier
        if not fields or verifier is None:
            return None
        identity = verifier.verify(token)
        if identity is None:
            return None
        return VerifiedProfile(identity.subject, fields, self.profiles.get(identity.subject))

    @staticmethod
    def inbound(
        verified: VerifiedProfile | None,
        attributes_type: type[SessionAttributes],
        inbound: Mapping[str, str] | None,
        durable: Mapping[str, Any] | None,
    ) -> Mapping[str, str] | None:
        """The inbound session attributes the turn may decode: shared keys only from the identity that sent them.

        A verified turn takes its shared fields from the profile alone; an anonymous turn after a verified one
        ignores the shared values Lex echoes back (the previous, signed-in user's).
        """
        if not inbound or (verified is None and not (durable or {}).get(OWNER_KEY)):
            return inbound
        keys = {
            info.alias or name
            for name, info in attributes_type.model_fields.items()
            if name in _shared(verified, attributes_type)
        }
        return {key: value for key, value in inbound.items() if key not in keys}

    @staticmethod
    def apply(verified: VerifiedProfile | None, attributes: SessionAttributes) -> LinkedProfile | None:
        """Set every shared attribute to the verified user's profile value, or its default (once per run)."""
        if verified is None:
            return None
        fields = type(attributes).model_fields
        for name in verified.fields:
            default = fields[name].get_default(call_default_factory=True)
            value = verified.profile.get(name, default)
            try:
                setattr(attributes, name, value)
            except ValidationError:
                logger.warning("profile value not accepted by the bot", extra={"field": name})
                setattr(attributes, name, default)
        state = attributes.to_state()
        return LinkedProfile(verified.subject, verified.fields, {name: state.get(name) for name in verified.fields})

    @staticmethod
    def durable_changes(
        verified: VerifiedProfile | None, changes: Mapping[str, Any], durable: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """What the turn writes to the durable Lex session: ``(set, remove)``.

        A verified turn keeps its shared fields out (they live in the profile) and records the owner; an
        anonymous turn after a verified one clears the owner.
        """
        durable = durable or {}
        if verified is None:
            return dict(changes), frozenset({OWNER_KEY}) if durable.get(OWNER_KEY) else frozenset()
        kept = {name: value for name, value in changes.items() if name not in verified.fields}
        tag = owner_tag(verified.subject)
        if durable.get(OWNER_KEY) != tag:
            kept[OWNER_KEY] = tag
        return kept, frozenset()

    def save(self, linked: LinkedProfile | None, attributes: SessionAttributes) -> None:
        """Merge the shared attributes the turn changed into the verified user's profile."""
        if linked is None:
            return
        state = attributes.to_state()
        changed = {name: state.get(name) for name in linked.fields if state.get(name) != linked.before[name]}
        if not changed:
            return
        good, bad = valid_changes(changed)
        if bad:
            logger.warning("attribute values the profile cannot hold were not shared", extra={"fields": bad})
        if good:
            self.profiles.merge(linked.subject, good)
