"""The sample bot's session attributes: what it remembers between turns, typed.

Showcases the codec: a StrEnum, a nested model, a list, a dict, a server-only field (the client can
read it but never set it), and a secret server-only field (never sent to Lex at all).

``name`` is the user's display name. The client that talks to Lex (a web or mobile app, typically
after sign-in) sets it as the ``name`` session attribute, e.g. ``RecognizeText(..., sessionState=
{"sessionAttributes": {"name": "Ana"}})``; Greeting uses it and the durable session keeps it.

``name`` and ``language`` are ``Shared()``: for a signed-in user whose Lex client passes a verified
Cognito token (request attribute ``chatstate.idToken``) they come from, and go to, the user's profile,
the same one the chat API's ``/profile`` serves.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatstate.attributes import ServerOnly, SessionAttributes
from chatstate.profile import Shared

MAX_RECENT_BOOKINGS = 5
MAX_NAME_CHARS = 100
"""Longest display name the bot keeps; a longer one is rejected (reported, not stored)."""
MAX_CITY_CHARS = 100


class Language(StrEnum):
    """Languages the bot greets in."""

    EN = "en"
    ES = "es"
    FR = "fr"
    DE = "de"
    IT = "it"


class Booking(BaseModel):
    """A flight booking."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    departure_city: Annotated[str, StringConstraints(max_length=MAX_CITY_CHARS)]
    arrival_city: Annotated[str, StringConstraints(max_length=MAX_CITY_CHARS)]
    departure_date: date


class BotAttributes(SessionAttributes):
    """The sample bot's attributes (Lex keys in parentheses when they differ from the field name)."""

    name: Annotated[str | None, StringConstraints(max_length=MAX_NAME_CHARS), Shared()] = None
    language: Annotated[Language, Shared()] = Language.EN
    last_booking: Booking | None = Field(default=None, alias="lastBooking")
    recent_bookings: list[Booking] = Field(default_factory=list, alias="recentBookings")
    intent_counts: dict[str, int] = Field(default_factory=dict, alias="intentCounts")
    visits: Annotated[int, ServerOnly()] = 0
    tier: Annotated[Literal["standard", "gold"], ServerOnly()] = "standard"
    loyalty_token: Annotated[str | None, ServerOnly(secret=True)] = Field(default=None, alias="loyaltyToken")

    def count_intent(self, intent: str) -> None:
        """Count one fulfilled request of ``intent``."""
        self.intent_counts = {**self.intent_counts, intent: self.intent_counts.get(intent, 0) + 1}

    def remember_booking(self, booking: Booking) -> None:
        """Make ``booking`` the last one and keep the most recent few."""
        self.last_booking = booking
        self.recent_bookings = [*self.recent_bookings, booking][-MAX_RECENT_BOOKINGS:]
