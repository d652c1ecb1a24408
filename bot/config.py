"""Settings from environment variables and an optional ``.env`` file.

Every value is validated at start-up; :func:`load_settings` turns pydantic's errors into a
:class:`~bot.errors.ConfigError` that names the variable and says what is expected.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

__all__ = ["BUNDLED_FEEDS_FILE", "Settings", "load_settings"]

BUNDLED_FEEDS_FILE = Path(__file__).parent / "feeds" / "moscow.toml"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item for item in re.split(r"[,\s]+", value.strip()) if item]
    return value


class Settings(BaseSettings):
    """All configuration of one bot process. Field names map to upper-case variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///data/newsbot.sqlite3"
    redis_url: str | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    telegram_api_base: str | None = None
    feeds_file: Path = BUNDLED_FEEDS_FILE
    default_language: Literal["ru", "en"] = "ru"
    default_timezone: str = "Europe/Moscow"
    default_digest_time: time = time(8, 0)
    poll_interval: int = Field(default=300, ge=60, le=86_400)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Feed fetching
    contact_url: str = "https://github.com/district-news-bot"
    feed_allowed_networks: Annotated[tuple[str, ...], NoDecode] = ()
    feed_broken_after_hours: float = Field(default=24.0, gt=0, le=24 * 365, allow_inf_nan=False)
    # Parsing and understanding one feed, in worker processes (bot/feeds/workers.py)
    parse_workers: int = Field(default=2, ge=1, le=16)
    feed_parse_timeout: float = Field(default=20.0, ge=1, le=600, allow_inf_nan=False)
    feed_parse_memory_mb: int = Field(default=512, ge=64, le=16_384)

    # Delivery
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    allow_paid_broadcast: bool = False
    paid_broadcast_rate: float = Field(default=500.0, gt=0, le=1000)
    digest_cap: int = Field(default=12, ge=1, le=50)
    retention_days: int = Field(default=60, ge=7)

    @field_validator("bot_token", mode="before")
    @classmethod
    def _check_token(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not _TOKEN_RE.match(value.strip()):
            raise ValueError("a token from @BotFather such as 123456789:AAE... ")
        return value.strip()

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admins(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("feed_allowed_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        items = _split_list(value)
        if isinstance(items, list):
            for item in items:
                ipaddress.ip_network(str(item), strict=False)  # ValueError names the culprit
        return items

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "a SQLAlchemy URL starting with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http(s) URL of a Bot API server, e.g. http://127.0.0.1:8081")
        return value or None

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/Moscow") from None
        return value

    @field_validator("default_digest_time", mode="before")
    @classmethod
    def _check_time(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
            raise ValueError("a time of day as HH:MM, e.g. 08:00")
        return value

    @field_validator("feeds_file")
    @classmethod
    def _check_feeds_file(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"an existing TOML file (not found: {value})")
        return value

    @property
    def token(self) -> str:
        """The bot token; raises ConfigError with instructions when it is not set."""
        if self.bot_token is None:
            raise ConfigError(
                "BOT_TOKEN is not set.\n"
                "Create a bot with @BotFather in Telegram (send /newbot), copy the token it "
                "gives you, then either run\n"
                "    export BOT_TOKEN=123456789:AAE...\n"
                "or put the line BOT_TOKEN=123456789:AAE... into a .env file here."
            )
        return self.bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and .env); invalid values raise ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "settings"
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(
                f"{name}: expected {message}"
                if err["type"] == "value_error"
                else f"{name}: {message}"
            )
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(lines)) from None
