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
(``OWNER_KEY``: a digest of the subject, never the subject). When the next turn of that Lex session
comes from someone else (another signed-in user, or an anonymous one after a signed-in one: a shared
device, a kiosk), the session starts over for them: every attribute Lex echoes back and every durable
value is ignored (defaults instead, written over the previous person's), and the agent's context holds
no turn from before the switch (``SINCE_KEY``). A user who signs in during an anonymous conversation
keeps it: that is usually the same person.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chatstate.attributes import SessionAttributes
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex.models import LexEvent
from chatstate.models import Message, Session
from chatstate.profile import ProfileStore, Shared, profile_fields, valid_changes

logger = logging.getLogger("chatstate.lex.profile")

OWNER_KEY = "~profile_owner"
"""Durable Lex session state key: the signed-in user the session's turns belong to (absent: anonymous)."""
SINCE_KEY = "~profile_since"
"""Durable Lex session state key: the last message sequence number of the previous person's turns."""


def owner_tag(subject: str) -> str:
    """The ``OWNER_KEY`` value of a verified subject: a digest, so the session never stores the user id."""
    return hashlib.sha256(subject.encode()).hexdigest()[:24]


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
        verifier: The token verifier (``None``: identity is off, every turn is anonymous).
        profiles: The profile store.
        attribute: The request attribute holding the token.
    """

    def __init__(
        self, verifier: TokenVerifier | None, profiles: ProfileStore, *, attribute: str = TOKEN_REQUEST_ATTRIBUTE
    ) -> None:
        self.verifier = verifier
        self.profiles = profiles
        self.attribute = attribute

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
    def switched(verified: VerifiedProfile | None, durable: Mapping[str, Any] | None) -> bool:
        """Whether this turn comes from someone else than the signed-in user the session belongs to."""
        owner = (durable or {}).get(OWNER_KEY)
        return bool(owner) and owner != (owner_tag(verified.subject) if verified is not None else None)

    @classmethod
    def screen(
        cls,
        verified: VerifiedProfile | None,
        attributes_type: type[SessionAttributes],
        inbound: Mapping[str, str] | None,
        durable: Mapping[str, Any] | None,
    ) -> tuple[Mapping[str, str] | None, Mapping[str, Any] | None]:
        """The inbound attributes and durable state the turn may decode, for the identity it comes from.

        After a switch of person: neither (the undeclared keys Lex carries are kept). A verified turn: no
        shared value from the client (the profile is the truth).
        """
        if cls.switched(verified, durable):
            declared = {info.alias or name for name, info in attributes_type.model_fields.items()}
            return {k: v for k, v in (inbound or {}).items() if k not in declared} if inbound else inbound, None
        if not inbound or verified is None:
            return inbound, durable
        fields = attributes_type.model_fields
        shared = {fields[name].alias or name for name in verified.fields}
        return {key: value for key, value in inbound.items() if key not in shared}, durable

    @classmethod
    def history(
        cls, verified: VerifiedProfile | None, session: Session | None, messages: list[Message]
    ) -> list[Message]:
        """The agent's context: only messages of the person this turn comes from (none after a switch)."""
        if session is None:
            return messages
        if cls.switched(verified, session.state):
            return []
        since = session.state.get(SINCE_KEY)
        return [m for m in messages if m.seq > since] if isinstance(since, int) else messages

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

    @classmethod
    def durable_changes(
        cls,
        verified: VerifiedProfile | None,
        changes: Mapping[str, Any],
        session: Session | None,
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """What the turn writes to the durable Lex session: ``(set, remove)``.

        A verified turn keeps its shared fields out (they live in the profile) and records its owner; an
        anonymous turn after a verified one clears the owner; a switch of person records where it happened.
        """
        durable = session.state if session is not None else {}
        kept = dict(changes)
        remove: frozenset[str] = frozenset()
        if verified is not None:
            kept = {name: value for name, value in kept.items() if name not in verified.fields}
            tag = owner_tag(verified.subject)
            if durable.get(OWNER_KEY) != tag:
                kept[OWNER_KEY] = tag
        elif durable.get(OWNER_KEY):
            remove = frozenset({OWNER_KEY})
        if session is not None and cls.switched(verified, durable):
            kept[SINCE_KEY] = session.event_count
        return kept, remove

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
