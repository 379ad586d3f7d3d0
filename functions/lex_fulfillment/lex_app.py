"""Lex V2 fulfillment function of the sample ChatBot (Handler: ``lex_app.lambda_handler``).

Thin: the work happens in ``chatstate.lex.LexRuntime``; the bot lives in ``lex_bot``. The runtime, its
store and its agent responder (built-in, or Bedrock when ``BEDROCK_MODEL_ID`` is set) are built once
per execution environment, as are the token verifier (``TOKEN_ISSUER``/``TOKEN_AUDIENCE``; JWKS cached) and
the profile store of signed-in users: during Lambda's Init when running in Lambda (``prepare``), otherwise on
first use (tests inject a store before that).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from lex_bot.attributes import BotAttributes
from lex_bot.intents import router

from chatstate.deadline import Deadline, within
from chatstate.lex.profile_link import ProfileLink
from chatstate.lex.runtime import LexRuntime
from chatstate.logsafe import error_fields
from chatstate.runtime import in_lambda, prepare_clients

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "chatstate-lex")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ChatState")


def _store() -> Any:
    from chatstate.runtime import get_store

    return get_store()


def _responder() -> Any:
    from chatstate.chat.responders import responder_from_settings
    from chatstate.settings import get_settings

    return responder_from_settings(get_settings())


def _history_turns() -> int:
    from chatstate.settings import get_settings

    return get_settings().history_turns


def _verifier() -> Any:
    from chatstate.identity import IdentitySettings

    return IdentitySettings.from_env().verifier()


def _profiles() -> Any:
    from chatstate.profile.wiring import get_profile_store

    return get_profile_store()


@lru_cache(maxsize=1)
def get_runtime() -> LexRuntime[BotAttributes]:
    """The runtime of this execution environment (``get_runtime.cache_clear()`` resets it)."""
    return LexRuntime(
        router,
        store=_store,
        logger=logger,
        metrics=metrics,
        responder=_responder,
        history_turns=_history_turns,
        profiles=ProfileLink(_verifier, _profiles),
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)  # no keys left by an earlier invocation
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Lex V2 code-hook event, within the invocation's time budget."""
    with within(Deadline.from_context(context)):
        return get_runtime().handle(event)


def prepare() -> None:
    """Build the runtime, its store and the boto3 client now (Lambda Init) rather than in the first event.

    Best effort: if the configuration or boto3 fails here, the first event builds them again and still answers Lex
    with a valid response.
    """
    try:
        prepare_clients(get_runtime().store)
    except Exception as exc:
        logger.error("init: runtime not prepared; the first event will build it", extra=error_fields(exc))


if in_lambda():
    prepare()
