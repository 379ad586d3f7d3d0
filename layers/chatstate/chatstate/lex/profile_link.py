"""The verified user's profile inside a Lex turn: read before the handlers run, merged after.

Only for a turn whose request attribute ``TOKEN_REQUEST_ATTRIBUTE`` holds a token the
``TokenVerifier`` accepts; otherwise (no token, a bad one, identity off, or a bot without shared
fields) the turn is anonymous and no profile is read or written.

For a verified user, each ``Shared()`` attribute of the bot is set from the profile (the profile is
the cross-channel truth; a value the bot cannot accept is skipped). After the handlers ran, the
shared attributes they changed are merged into the profile (only values the profile schema
accepts), so what the user sets through Lex is what the chat API's ``GET /profile`` returns, and a
``PATCH /profile`` is what the next Lex turn sees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chatstate.attributes import SessionAttributes
from chatstate.identity import TOKEN_REQUEST_ATTRIBUTE, TokenVerifier
from chatstate.lex.models import LexEvent
from chatstate.profile.model import Shared, profile_fields, valid_changes
from chatstate.profile.port import ProfileStore

logger = logging.getLogger("chatstate.lex.profile")


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
    def apply(verified: VerifiedProfile | None, attributes: SessionAttributes) -> LinkedProfile | None:
        """Set the shared attributes from the verified user's profile (once per run of the turn)."""
        if verified is None:
            return None
        for name in verified.fields:
            if name in verified.profile:
                try:
                    setattr(attributes, name, verified.profile[name])
                except ValidationError:
                    logger.warning("profile value not accepted by the bot", extra={"field": name})
        state = attributes.to_state()
        return LinkedProfile(verified.subject, verified.fields, {name: state.get(name) for name in verified.fields})

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
