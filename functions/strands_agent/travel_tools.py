"""The agent's tools, from the sample bot's domain: look up flights and book one (kept in the agent's state)."""

from __future__ import annotations

import hashlib
from typing import Any

from strands import ToolContext, tool

MAX_BOOKINGS = 20


def _flights(departure_city: str, arrival_city: str, date: str) -> list[dict[str, Any]]:
    """Three deterministic sample flights for a route and day (a stand-in for a flight search API)."""
    seed = int(hashlib.sha256(f"{departure_city}|{arrival_city}|{date}".lower().encode()).hexdigest()[:8], 16)
    flights = []
    for i in range(3):
        hour = 6 + (seed >> (4 * i)) % 14
        flights.append(
            {
                "flight": f"CS{100 + (seed >> (3 * i)) % 900}",
                "departs": f"{date}T{hour:02d}:{(seed >> i) % 4 * 15:02d}",
                "from": departure_city,
                "to": arrival_city,
            }
        )
    return flights


@tool
def find_flights(departure_city: str, arrival_city: str, date: str) -> list[dict[str, Any]]:
    """Find flights between two cities on a date.

    Args:
        departure_city: City the flight leaves from.
        arrival_city: City the flight goes to.
        date: Departure date, YYYY-MM-DD.
    """
    return _flights(departure_city.strip(), arrival_city.strip(), date.strip())


@tool(context=True)
def book_flight(flight: str, date: str, tool_context: ToolContext) -> str:
    """Book a flight found with find_flights; the booking is kept in the session.

    Args:
        flight: The flight number, as find_flights returned it.
        date: Departure date, YYYY-MM-DD.
    """
    agent = tool_context.agent
    bookings = list(agent.state.get("bookings") or [])
    if len(bookings) >= MAX_BOOKINGS:
        return f"not booked: at most {MAX_BOOKINGS} bookings per session"
    booking = {"flight": flight.strip(), "date": date.strip()}
    if booking not in bookings:
        bookings.append(booking)
        agent.state.set("bookings", bookings)
    return f"booked {booking['flight']} on {booking['date']}"


TOOLS = [find_flights, book_flight]
