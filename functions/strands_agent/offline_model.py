"""The offline model: a deterministic script (Strands' ``Model`` interface) used when no Bedrock model is configured.

It plays the sample domain's two moves so the whole agent loop runs without Bedrock: a prompt with
"from <city> to <city>" (and optionally a YYYY-MM-DD date) asks ``find_flights``; "book <flight>" asks
``book_flight``; a tool result is summarised; anything else gets a short help text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from strands.types.content import Message, Messages
from strands.types.tools import ToolResult

from chatstate.strands.scripted import ScriptedModel, text, tool_call

_CITY = r"([A-Za-z][A-Za-z .'-]{0,40}?)"
_ROUTE = re.compile(rf"\bfrom\s+{_CITY}\s+to\s+{_CITY}(?=\s+on\b|[?.!,]|$)", re.I)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_BOOK = re.compile(r"\bbook\s+(?:flight\s+)?([A-Z]{2}\d{2,4})\b", re.I)
HELP = 'I can find flights ("flights from Paris to Rome on 2030-05-01") and book one ("book CS123 on 2030-05-01").'


def _last_user_text(messages: Messages) -> str:
    for block in messages[-1]["content"]:
        if "text" in block:
            return block["text"]
    return ""


def _tool_result(messages: Messages) -> ToolResult | None:
    for block in messages[-1]["content"]:
        if "toolResult" in block:
            return block["toolResult"]
    return None


def _summary(result: ToolResult) -> str:
    parts = []
    for block in result.get("content", []):
        if "text" in block:
            parts.append(block["text"])
        elif "json" in block:
            parts.append(json.dumps(block["json"]))
    body = " ".join(parts)
    if result.get("status") == "error":
        return f"That did not work: {body}"
    try:
        flights = json.loads(body)
    except ValueError:
        return body[:1].upper() + body[1:] + "."
    if isinstance(flights, list) and flights:
        listed = ", ".join(f"{f['flight']} at {f['departs'][-5:]}" for f in flights)
        return f"Flights from {flights[0]['from']} to {flights[0]['to']}: {listed}. Say 'book <flight>' to book one."
    return body


def reply(messages: Messages) -> Message:
    """The next assistant message for a conversation (the offline script)."""
    result = _tool_result(messages)
    if result is not None:
        return text(_summary(result))
    prompt = _last_user_text(messages)
    turn = sum(1 for m in messages if m["role"] == "user")
    date_match = _DATE.search(prompt)
    date = date_match.group(1) if date_match else (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d")
    booking = _BOOK.search(prompt)
    if booking:
        return tool_call("book_flight", {"flight": booking.group(1).upper(), "date": date}, f"book-{turn}")
    route = _ROUTE.search(prompt)
    if route:
        tool_input = {"departure_city": route.group(1).strip(), "arrival_city": route.group(2).strip(), "date": date}
        return tool_call("find_flights", tool_input, f"find-{turn}")
    return text(HELP)


def offline_model() -> ScriptedModel:
    """A scripted model answering with ``reply``."""
    return ScriptedModel(reply)
