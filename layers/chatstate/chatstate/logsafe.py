"""Log fields that describe an error without its text, and wire logs kept out: logs carry ids, never user data.

An exception's message may quote what a user typed (pydantic's ``ValidationError`` quotes the input
values; a handler's ``ValueError(f"bad city {city}")``; a Bedrock ``ValidationException`` echoing the
prompt), and so may a traceback, which ends with that message and repeats every chained one. So
errors are logged with ``error_fields(exc)``: the exception types, pydantic's error types and
locations, and the code locations of the stack; never ``str(exc)``, never ``logger.exception``.

botocore logs whole request and response bodies (messages, session state) at DEBUG;
``quiet_wire_logs()`` caps the ``botocore`` and ``urllib3`` loggers at INFO, whatever level the
function's root logger runs at.
"""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path
from typing import Any

_SAFE_LOC = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SAFE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
INVALID_ID = "<invalid>"
_MAX_FRAMES = 12
_WIRE_LOGGERS = ("botocore", "urllib3")


def safe_id(value: object) -> str | None:
    """``value`` if it looks like an id (1..128 of letters, digits and ``. _ : @ -``), else ``INVALID_ID``.

    For ids taken from a request before (or without) validation: free text is never logged as an id.
    """
    if value is None:
        return None
    return value if isinstance(value, str) and _SAFE_ID.fullmatch(value) else INVALID_ID


def validation_summary(exc: Any) -> list[dict[str, Any]]:
    """Pydantic errors as ``{"type", "loc"}`` only: no ``msg``/``input``/``ctx`` (they quote the input).

    Location parts that are not field-like names (dict keys a client chose) are replaced by ``"*"``.
    """
    summary = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = [p if isinstance(p, int) or _SAFE_LOC.fullmatch(str(p)) else "*" for p in error["loc"]]
        summary.append({"type": error["type"], "loc": loc})
    return summary


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Structured log fields for ``exc`` that carry no message text.

    Returns:
        ``error_type`` (the class name), ``error_chain`` (class names of the causes/contexts, when
        any), ``validation_errors`` (for pydantic errors) and ``stack`` (``file:line function`` of
        the innermost frames).
    """
    from pydantic import ValidationError

    fields: dict[str, Any] = {"error_type": type(exc).__name__}
    chain: list[str] = []
    seen = {id(exc)}
    inner: BaseException | None = exc.__cause__ or exc.__context__
    while inner is not None and id(inner) not in seen and len(chain) < 5:
        seen.add(id(inner))
        chain.append(type(inner).__name__)
        inner = inner.__cause__ or inner.__context__
    if chain:
        fields["error_chain"] = chain
    if isinstance(exc, ValidationError):
        fields["validation_errors"] = validation_summary(exc)
    frames = traceback.extract_tb(exc.__traceback__)[-_MAX_FRAMES:]
    if frames:
        fields["stack"] = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames]
    return fields


def quiet_wire_logs() -> None:
    """Keep botocore's and urllib3's DEBUG output (request/response bodies) out of the logs."""
    for name in _WIRE_LOGGERS:
        wire = logging.getLogger(name)
        if wire.level < logging.INFO:  # NOTSET (inherits the root's level) or DEBUG
            wire.setLevel(max(logging.INFO, wire.getEffectiveLevel()))
