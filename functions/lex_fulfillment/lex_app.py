"""Lex V2 fulfillment function of the sample ChatBot (Handler: ``lex_app.lambda_handler``).

Thin: the work happens in ``chatstate.lex.LexRuntime``; the bot lives in ``lex_bot``. The runtime and
its store are built once per execution environment, on first use (boto3 is imported only then).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from lex_bot.attributes import BotAttributes
from lex_bot.intents import router

from chatstate.deadline import Deadline, within
from chatstate.lex.runtime import LexRuntime

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "chatstate-lex")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ChatState")


def _store() -> Any:
    from chatstate.runtime import get_store

    return get_store()


@lru_cache(maxsize=1)
def get_runtime() -> LexRuntime[BotAttributes]:
    """The runtime of this execution environment (``get_runtime.cache_clear()`` resets it)."""
    return LexRuntime(router, store=_store, logger=logger, metrics=metrics)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Lex V2 code-hook event, within the invocation's time budget."""
    with within(Deadline.from_context(context)):
        return get_runtime().handle(event)
