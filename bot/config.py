"""Settings, read once at the edge (environment and `.env`) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_QUESTION_CHARS = 1000


class Settings(BaseSettings):
    """Everything newsbot can be configured with; see `.env.example`."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    index_dir: Path = Path("indexes/default")
    chroma_host: str | None = None
    chroma_port: int = 8000  # range-checked at the edge (bot.cli), with its own message
    llm: str | None = None
    llm_timeout: float = Field(default=30.0, gt=0)
    top_k: int = Field(default=8, ge=1, le=100)

    api_token: SecretStr | None = None
    rate_limit: int = Field(default=60, ge=0)
    max_request_bytes: int = Field(default=16384, ge=1024)

    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    slack_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url")
    )
