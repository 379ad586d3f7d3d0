"""The caller's conversations and data, independent of HTTP: list, rename, export, erase.

``GET /sessions`` is one index read (``SessionStore.list_sessions``), ``PATCH /sessions/{id}`` one
conditional write (``SessionStore.rename``); ``GET /me/export`` and ``DELETE /me`` page through the
caller's data with ``chatstate.account.AccountService``. Every method takes the actor id (the JWT
``sub``) and raises only ``chatstate`` errors: ``Unauthenticated`` for an unusable actor id,
``InvalidRequest`` for a bad limit, title or session id, ``InvalidCursor``, ``SessionNotFound``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from chatstate.chat.errors import InvalidRequest
from chatstate.chat.payloads import DEFAULT_PAGE_SIZE
from chatstate.models import SessionListPage, SessionRef, SessionSummary
from chatstate.store.logic import check_title
from chatstate.store.port import MAX_TITLE_CHARS

if TYPE_CHECKING:
    from chatstate.account import AccountService
    from chatstate.profile import ProfileStore
    from chatstate.store.port import SessionStore


class RenameBody(BaseModel):
    """Body of ``PATCH /sessions/{session_id}``: ``{"title": str}`` (1..200 characters)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True)

    title: str


class CursorQuery(BaseModel):
    """Query of ``GET /me/export`` and ``DELETE /me``: an optional ``cursor`` from the previous answer."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    cursor: str | None = Field(default=None, title="cursor", description="must be a string")


class Conversations:
    """List and rename the caller's sessions; export and erase everything stored for them.

    Args:
        store: The session store.
        account: The export/erase service, or a zero-argument factory called on first use.
    """

    def __init__(self, store: SessionStore, account: AccountService | Callable[[], AccountService]) -> None:
        self.store = store
        self._account: AccountService | None = None if callable(account) else account
        self._build_account = account if callable(account) else None

    @property
    def account(self) -> AccountService:
        """The export/erase service (built on first use)."""
        if self._account is None:
            assert self._build_account is not None
            self._account = self._build_account()
        return self._account

    @staticmethod
    def _actor(actor_id: str) -> str:
        from chatstate.chat.service import ChatService

        return ChatService.ref(actor_id, "-").actor_id

    def list(self, actor_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> SessionListPage:
        """One page of the caller's live sessions, newest first (``InvalidRequest``: a page size the store refuses)."""
        return self.store.list_sessions(self._actor(actor_id), limit=limit, cursor=cursor or None)

    def rename(self, ref: SessionRef, title: str) -> SessionSummary:
        """Set a session's title (``SessionNotFound`` for an absent, expired or another actor's session)."""
        try:
            clean = check_title(title, MAX_TITLE_CHARS)
        except ValueError as exc:  # the store's one title rule, worded as a field error
            raise InvalidRequest("title", str(exc).removeprefix("title ")) from None
        return self.store.rename(ref, clean)

    def export(self, actor_id: str, cursor: str | None = None) -> dict[str, Any]:
        """One page of everything stored for the caller (``AccountService.export``)."""
        return self.account.export(self._actor(actor_id), cursor or None)

    def erase(self, actor_id: str, cursor: str | None = None) -> dict[str, Any]:
        """Erase everything of the caller, or as much as the budget allows (``AccountService.erase``)."""
        return self.account.erase(self._actor(actor_id), cursor or None)


def build_conversations(store: SessionStore, profiles: ProfileStore) -> Conversations:
    """``Conversations`` on a session store and a profile store (the account service is built on first use)."""
    from chatstate.account import AccountService

    return Conversations(store, lambda: AccountService(store, profiles))
