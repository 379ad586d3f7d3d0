"""The sample ChatBot's intents: Greeting, BookFlight, UpdatePreferences, FallbackIntent."""

from __future__ import annotations

from datetime import date

from chatstate.lex import IntentRouter, LexResponse, TurnContext, set_slot
from lex_bot.attributes import MAX_CITY_CHARS, Booking, BotAttributes, Language

router = IntentRouter[BotAttributes](agent_fallback=True)
"""``agent_fallback``: what the intents don't answer goes to the agent (``fallback`` below is its reprompt)."""
Ctx = TurnContext[BotAttributes]

GREETINGS: dict[Language, str] = {
    Language.EN: "Hello",
    Language.ES: "Hola",
    Language.FR: "Bonjour",
    Language.DE: "Hallo",
    Language.IT: "Ciao",
}
LANGUAGE_NAMES: dict[Language, str] = {
    Language.EN: "English",
    Language.ES: "Spanish",
    Language.FR: "French",
    Language.DE: "German",
    Language.IT: "Italian",
}
_LANGUAGE_WORDS: dict[str, Language] = {
    **{lang.value: lang for lang in Language},
    **{name.lower(): lang for lang, name in LANGUAGE_NAMES.items()},
    "español": Language.ES,
    "français": Language.FR,
    "deutsch": Language.DE,
    "italiano": Language.IT,
}
REPROMPT = "Sorry, I didn't catch that. You can say hello, book a flight or change your language."


def parse_language(value: str | None) -> Language | None:
    """A supported language from a slot value (code or name, any case), else ``None``."""
    if not value:
        return None
    return _LANGUAGE_WORDS.get(value.strip().lower())


def parse_date(value: str | None) -> date | None:
    """An AMAZON.Date interpreted value (ISO ``YYYY-MM-DD``) as a date, else ``None``."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# -- Greeting --------------------------------------------------------------------------------------
@router.fulfillment("Greeting")
def greeting(ctx: Ctx) -> LexResponse:
    """Greet by stored name in the preferred language and count the visit."""
    attrs = ctx.attributes
    attrs.visits += 1
    attrs.count_intent("Greeting")
    word = GREETINGS[attrs.language]
    who = f"{word}, {attrs.name}!" if attrs.name else f"{word}!"
    if attrs.visits == 1:
        text = f"{who} Nice to meet you. I can book flights and remember your preferences."
    else:
        text = f"{who} Welcome back, this is visit number {attrs.visits}."
    return ctx.close("Fulfilled", text)


# -- BookFlight ------------------------------------------------------------------------------------
def _validate_booking(ctx: Ctx) -> LexResponse | None:
    """An ElicitSlot response for the first invalid slot, or ``None`` when the filled slots are fine."""
    departure = ctx.slot("DepartureCity")
    arrival = ctx.slot("ArrivalCity")
    for name, city in (("DepartureCity", departure), ("ArrivalCity", arrival)):
        if city and len(city) > MAX_CITY_CHARS:
            return ctx.elicit_slot(
                name, "Sorry, that city name is too long. Which city?", intent=set_slot(ctx.intent, name, None)
            )
    if departure and arrival and departure.strip().casefold() == arrival.strip().casefold():
        return ctx.elicit_slot(
            "ArrivalCity",
            f"You are already in {departure}. Where would you like to fly to?",
            intent=set_slot(ctx.intent, "ArrivalCity", None),
        )
    raw_date = ctx.slot("DepartureDate")
    if raw_date:
        when = parse_date(raw_date)
        if when is None:
            message = "Sorry, I didn't understand that date. What day would you like to leave?"
        elif when < ctx.now().date():
            message = "That date is in the past. What day would you like to leave?"
        else:
            return None
        return ctx.elicit_slot("DepartureDate", message, intent=set_slot(ctx.intent, "DepartureDate", None))
    return None


@router.dialog("BookFlight")
def book_flight_dialog(ctx: Ctx) -> LexResponse:
    """Validate the cities and the date; let Lex carry on when they are fine."""
    return _validate_booking(ctx) or ctx.delegate()


@router.fulfillment("BookFlight")
def book_flight(ctx: Ctx) -> LexResponse:
    """Store the booking in the durable session and confirm it."""
    invalid = _validate_booking(ctx)
    if invalid is not None:
        return invalid
    for slot in ("DepartureCity", "ArrivalCity", "DepartureDate"):
        if not ctx.slot(slot):
            return ctx.elicit_slot(slot)
    booking = Booking(
        departure_city=ctx.slot("DepartureCity") or "",
        arrival_city=ctx.slot("ArrivalCity") or "",
        departure_date=parse_date(ctx.slot("DepartureDate")) or ctx.now().date(),
    )
    ctx.attributes.remember_booking(booking)
    ctx.attributes.count_intent("BookFlight")
    return ctx.close(
        "Fulfilled",
        f"Your flight from {booking.departure_city} to {booking.arrival_city} on "
        f"{booking.departure_date.isoformat()} is booked.",
    )


# -- UpdatePreferences -----------------------------------------------------------------------------
def _unsupported_language(ctx: Ctx) -> LexResponse | None:
    value = ctx.slot("Language")
    if value and parse_language(value) is None:
        choices = ", ".join(LANGUAGE_NAMES.values())
        return ctx.elicit_slot(
            "Language",
            f"Sorry, I can't speak that language yet. Please choose one of: {choices}.",
            intent=set_slot(ctx.intent, "Language", None),
        )
    return None


@router.dialog("UpdatePreferences")
def update_preferences_dialog(ctx: Ctx) -> LexResponse:
    """Re-ask for an unsupported language; otherwise let Lex carry on."""
    return _unsupported_language(ctx) or ctx.delegate()


@router.fulfillment("UpdatePreferences")
def update_preferences(ctx: Ctx) -> LexResponse:
    """Store the preferred language; later greetings use it."""
    language = parse_language(ctx.slot("Language"))
    if language is None:
        return _unsupported_language(ctx) or ctx.elicit_slot("Language", "Which language would you like?")
    ctx.attributes.language = language
    ctx.attributes.count_intent("UpdatePreferences")
    return ctx.close("Fulfilled", f"Done. I'll speak {LANGUAGE_NAMES[language]} with you from now on.")


# -- FallbackIntent --------------------------------------------------------------------------------
@router.dialog("FallbackIntent")
@router.fulfillment("FallbackIntent")
def fallback(ctx: Ctx) -> LexResponse:
    """Reprompt politely (when the agent cannot answer); the session state is kept as it is."""
    return ctx.elicit_intent(REPROMPT)
