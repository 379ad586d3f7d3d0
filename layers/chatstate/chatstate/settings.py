"""Function configuration, validated once from the environment (the parameters in docs/deploying.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatstate.exceptions import ConfigError

DEFAULT_HISTORY_TURNS = 5
"""Earlier turns a responder sees: 10 messages of a ~600-byte turn stay within one 4 KB read unit."""


class Settings(BaseModel):
    """What both functions read from their environment. Required values have no default."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="SESSION_TABLE_NAME", min_length=3, max_length=255)
    ttl_seconds: int = Field(default=86_400, alias="SESSION_TTL_SECONDS", ge=60, le=366 * 86_400)
    history_turns: int = Field(default=DEFAULT_HISTORY_TURNS, alias="CHAT_HISTORY_TURNS", ge=0, le=100)
    bedrock_model_id: str | None = Field(default=None, alias="BEDROCK_MODEL_ID")
    system_prompt: str | None = Field(default=None, alias="CHAT_SYSTEM_PROMPT", max_length=4000)

    @field_validator("bedrock_model_id", "system_prompt", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Validate the environment; raises ``ConfigError`` naming the bad variables."""
        env = os.environ if environ is None else environ
        try:
            return cls.model_validate(dict(env))
        except ValidationError as exc:
            names = ", ".join(str(err["loc"][0]) for err in exc.errors())
            raise ConfigError(f"invalid or missing environment variables: {names}") from exc
