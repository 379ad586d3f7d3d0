"""The execution environment: is this Lambda, and the deployed parts each function's composition root builds.

Each function module owns one composition root (``lex_app.dependencies()``, ``chat_app.dependencies()``): a cached
object holding its settings, clients and stores. The builders here only turn validated ``Settings`` into the
deployed parts; they cache nothing and know no function. Inside Lambda, handler modules build their dependencies
during Init (``in_lambda()``, ``prepare_clients``): AWS's guidance is to create SDK clients outside the handler, so
the first event does not pay for importing botocore and building the client.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatstate.chat.responders import Responder
    from chatstate.profile import ProfileStore
    from chatstate.settings import Settings
    from chatstate.store.port import SessionStore


def in_lambda() -> bool:
    """True in a Lambda execution environment (Lambda sets ``AWS_LAMBDA_INITIALIZATION_TYPE`` for every function)."""
    return bool(os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"))


AHEAD_OF_REQUESTS = frozenset({"snap-start", "provisioned-concurrency"})
"""Lambda's Init types during which no request waits: SnapStart's snapshot and provisioned concurrency."""


def init_ahead_of_requests() -> bool:
    """True when this Init runs before any request is routed here (``AWS_LAMBDA_INITIALIZATION_TYPE``)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in AHEAD_OF_REQUESTS


def build_models(*packages: str) -> int:
    """Build now every imported pydantic model of ``packages`` (schemas are otherwise built on first use).

    Worth it only when Init runs ahead of requests (``init_ahead_of_requests``): a snapshot or a provisioned
    environment then answers its first event without building schemas. Session attribute classes also compile
    their field codecs. Returns how many models were built.
    """
    from pydantic import BaseModel

    def subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *subclasses(direct))]

    built = 0
    for model in subclasses(BaseModel):
        if model.__module__.split(".")[0] not in packages or model.__pydantic_complete__:
            continue
        if model.model_rebuild(raise_errors=False):  # a model that cannot build yet reports it on first use
            compile_codec = getattr(model, "compile_codec", None)  # SessionAttributes: its field codecs
            if compile_codec is not None:
                compile_codec()
            built += 1
    return built


def prepare_clients(*parts: object) -> None:
    """Create the SDK clients of ``parts`` now, through their lazy ``client`` property (parts without one: no-op)."""
    for part in parts:
        getattr(part, "client", None)


def session_store(settings: Settings) -> SessionStore:
    """The DynamoDB session store the settings describe (its client is created on first use)."""
    from chatstate.store.dynamodb import DynamoDBSessionStore
    from chatstate.store.port import StorePolicy

    return DynamoDBSessionStore(settings.table_name, policy=StorePolicy(ttl_seconds=settings.ttl_seconds))


def profile_store(settings: Settings, sessions: SessionStore) -> ProfileStore:
    """The DynamoDB profile store on the session table, sharing ``sessions``' client when it is the DynamoDB one.

    One table, one client: one connection pool and one deadline guard for both stores.
    """
    from chatstate.profile import DynamoDBProfileStore
    from chatstate.store.dynamodb import DynamoDBTable

    client = sessions.client if isinstance(sessions, DynamoDBTable) else None
    return DynamoDBProfileStore(settings.table_name, client=client)


class Dependencies:
    """Base of a function's composition root: each part is a ``functools.cached_property``, built on first use.

    Keyword arguments replace parts before they are built (tests, local runs); an unknown name is a ``TypeError``.
    """

    def __init__(self, **parts: object) -> None:
        unknown = sorted(name for name in parts if not isinstance(getattr(type(self), name, None), cached_property))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no part(s) {unknown}")
        vars(self).update(parts)


class SessionDependencies(Dependencies):
    """The parts the Lex and chat functions share: settings, session store, responder and profile store."""

    @cached_property
    def settings(self) -> Settings:
        """The function's validated environment."""
        from chatstate.settings import Settings

        return Settings.from_env()

    @cached_property
    def store(self) -> SessionStore:
        """The DynamoDB session store."""
        return session_store(self.settings)

    @cached_property
    def responder(self) -> Responder:
        """The agent's replies: built-in, or Bedrock when ``BEDROCK_MODEL_ID`` is set."""
        from chatstate.chat.responders import responder_from_settings

        return responder_from_settings(self.settings)

    @cached_property
    def profiles(self) -> ProfileStore:
        """The profile store, on the session table."""
        return profile_store(self.settings, self.store)


class CachedRoot[D: Dependencies]:
    """One composition root per execution environment: built on first use, replaced with one call."""

    def __init__(self, build: Callable[..., D]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self.current: D | None = None

    def get(self) -> D:
        """The current root (built now if there is none yet)."""
        current = self.current
        if current is None:
            with self._lock:
                if self.current is None:
                    self.current = self._build()
                current = self.current
        return current

    def configure(self, **parts: object) -> D:
        """Start over with a fresh root; ``parts`` replace the ones it would build."""
        with self._lock:
            self.current = root = self._build(**parts)
        return root
