"""Settings of the front ends: logging, and everything Telegram needs. Read from the same `.env` as the engine's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, StrictInt, field_validator
from pydantic_settings import BaseSettings, NoDecode

from index.core.settings import ENV


class LogSettings(BaseSettings):
    """Where the log goes and how much of it reaches the terminal."""

    model_config = ENV

    log_level: str = "WARNING"
    log_file: Path | None = Path(".eventbot/eventbot.log")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_file", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class TelegramSettings(BaseSettings):
    """The bot token, the Bot API server, webhook mode, who may do what, and the limits."""

    model_config = ENV

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    # Where uploaded files are downloaded from; unset: the API base URL's file counterpart (…/file/bot).
    telegram_file_base_url: str | None = None
    telegram_timeout: float = Field(default=10.0, gt=0, le=300)
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=10_000)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Telegram ids are whole numbers: `true` or "5" in a JSON list is refused, not read as 1 or 5.
    admin_user_ids: Annotated[frozenset[StrictInt], NoDecode] = frozenset()
    allowed_chat_ids: Annotated[frozenset[StrictInt], NoDecode] = frozenset()
    rate_limit_per_minute: int = Field(default=20, ge=1, le=10_000)

    def file_base_url(self) -> str:
        """Where uploaded files are downloaded from (TELEGRAM_FILE_BASE_URL, or the API's file URL)."""
        return self.telegram_file_base_url or self.telegram_api_base_url.replace("/bot", "/file/bot")

    @field_validator("webhook_url", "telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        # Operators write "1, 2, 3" in .env; JSON lists still work.
        if isinstance(value, int) and not isinstance(value, bool):
            return {value}
        if isinstance(value, str):
            if value.strip().startswith("["):
                try:
                    ids = json.loads(value)  # a JSONDecodeError is a ValueError: one line naming the setting
                except RecursionError:
                    raise ValueError("is nested too deeply") from None
                if not isinstance(ids, list) or not all(type(i) is int for i in ids):
                    raise ValueError("must be whole numbers (Telegram ids), like 1, 2, 3 or [1, 2, 3]")
                return set(ids)
            return {int(part) for part in value.replace(",", " ").split()}
        return value

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line or a message."""
        return [s.get_secret_value() for s in (self.telegram_bot_token, self.webhook_secret) if s is not None]
