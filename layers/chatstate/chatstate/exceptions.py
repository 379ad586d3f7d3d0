"""One exception hierarchy for everything the chatstate layer raises.

Storage adapters translate their backend's errors into these once (see
``chatstate.store.dynamodb._translate``); handlers map them to HTTP statuses or Lex responses once.
"""

from __future__ import annotations

TYPE_CHECKING = False  # the models import nothing from here at run time; keep this module free of imports
if TYPE_CHECKING:
    from chatstate.models import RequestRecord, Session


class ChatSessionError(Exception):
    """Base class of every chatstate error."""


class InvalidRequest(ChatSessionError, ValueError):
    """A request or argument is malformed: bad JSON, a missing, mistyped or empty field, a bad id or page size."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message


class ConfigError(ChatSessionError):
    """The function's configuration (environment) is missing or invalid."""


class SessionNotFound(ChatSessionError):
    """The session does not exist, has expired, was deleted or belongs to another actor."""


class SessionExists(ChatSessionError):
    """A live session with this id already exists for this actor."""


class ConflictError(ChatSessionError):
    """A concurrent writer kept winning; the write was not applied after all retries."""


class StaleState(ConflictError):
    """The state a write was computed from changed meanwhile; nothing was written.

    ``session`` is the session as it is now (``None``: gone or expired): re-run the turn on it (the turn is the
    transaction).
    """

    def __init__(self, session: Session | None) -> None:
        super().__init__("the session state changed since it was read; re-run the turn on the fresh state")
        self.session = session


class IdempotencyKeyReused(ChatSessionError):
    """An idempotency key (request id) was reused with a different request body; nothing was written."""

    def __init__(self, request_id: str) -> None:
        super().__init__("this idempotency key was already used with a different request")
        self.request_id = request_id


class DuplicateRequest(ChatSessionError):
    """The request id was already applied to this session; nothing was written again."""

    def __init__(self, request_id: str, record: RequestRecord) -> None:
        super().__init__(f"request {request_id!r} was already applied")
        self.request_id = request_id
        self.record = record


class ItemTooLarge(ChatSessionError):
    """The write would exceed the store's item size limit (DynamoDB: 400 KB); nothing was written."""

    def __init__(self, message: str, *, size: int | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class StoreUnavailable(ChatSessionError):
    """The store throttled the request or could not be reached; retrying later may succeed."""

    def __init__(self, message: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class DeadlineExceeded(StoreUnavailable):
    """The invocation's time budget ran out before an outbound call or retry could finish; nothing more was sent."""

    def __init__(self, what: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(f"time budget exhausted before {what}", retry_after_seconds=retry_after_seconds)
        self.what = what


class StoreError(ChatSessionError):
    """The store failed in a way retrying will not fix (missing table, denied access, bad request)."""


class InvalidCursor(ChatSessionError):
    """A paging cursor is malformed, tampered with, or belongs to another session or actor."""
