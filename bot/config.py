"""Settings from environment variables and an optional ``.env`` file.

Every value is validated at start-up; :func:`load_settings` turns pydantic's errors into a
:class:`~bot.errors.ConfigError` that names the variable and says what is expected.
"""

from __future__ import annotations

import io
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv.parser import parse_stream
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError
from bot.feeds.addresses import AllowedNetwork, is_non_public_network
from digests.region import RegionError, load_region

__all__ = ["BUNDLED_FEEDS_FILE", "MAX_TELEGRAM_ID", "Settings", "check_env_file", "load_settings"]

BUNDLED_FEEDS_FILE = Path(__file__).parent / "feeds" / "moscow.toml"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# Telegram user ids have at most 52 significant bits; admins are users, so positive.
MAX_TELEGRAM_ID = 2**52 - 1
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


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
    region: str = "moscow"  # a bundled city or a folder with region.json (digests/region.py)
    default_language: Literal["ru", "en"] = "ru"
    default_timezone: str = Field(default="", validate_default=True)  # "": the region's zone
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
    retention_days: int = Field(default=60, ge=7, le=3650)

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

    @field_validator("admin_ids")
    @classmethod
    def _check_admins(cls, value: frozenset[int]) -> frozenset[int]:
        bad = sorted(i for i in value if not 1 <= i <= MAX_TELEGRAM_ID)
        if bad:
            raise ValueError(
                f"Telegram user ids: positive whole numbers below 2^52, not {bad[0]}"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("feed_allowed_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        items = _split_list(value)
        if isinstance(items, list):
            for item in items:
                try:
                    entry = AllowedNetwork.parse(str(item))
                except ValueError as exc:
                    raise ValueError(
                        f"private networks such as 10.0.0.0/8 or 10.0.0.5:8080 ({exc})"
                    ) from None
                if not is_non_public_network(entry.network):
                    # 0.0.0.0/0 would switch the SSRF guard off without a word.
                    raise ValueError(
                        f"only private networks: {item} contains public addresses, which "
                        "are allowed anyway; listing it would let feeds reach every "
                        "private address (the SSRF guard)"
                    )
        return items

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "a SQLAlchemy URL starting with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        try:
            url = make_url(value)
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"a valid SQLAlchemy URL ({exc})") from None
        if url.get_backend_name() == "sqlite" and (url.host or url.username or url.password):
            raise ValueError(
                "a SQLite URL with a file path and no host: sqlite+aiosqlite:///relative.db "
                "or sqlite+aiosqlite:////absolute/path.db"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is no number
        except ValueError as exc:
            raise ValueError(f"a Redis URL such as redis://127.0.0.1:6379/0 ({exc})") from None
        if parts.scheme not in ("redis", "rediss", "unix") or (
            parts.scheme != "unix" and not parts.hostname
        ):
            raise ValueError("a Redis URL such as redis://127.0.0.1:6379/0")
        return value

    @field_validator("contact_url")
    @classmethod
    def _check_contact(cls, value: str) -> str:
        # It goes into the User-Agent header of every request.
        if _CONTROL_RE.search(value) or len(value) > 300:
            raise ValueError("a URL or e-mail address on one line (at most 300 characters)")
        return value.strip()

    @field_validator("telegram_api_base")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http(s) URL of a Bot API server, e.g. http://127.0.0.1:8081")
        return value or None

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        try:
            load_region(value)
        except RegionError as exc:
            raise ValueError(f"a bundled city or a folder with region.json: {exc}") from None
        return value

    @field_validator("default_timezone", mode="before")
    @classmethod
    def _region_timezone(cls, value: object, info: ValidationInfo) -> object:
        if value not in (None, ""):
            return value
        # An invalid REGION is reported on its own; no second error about the zone.
        return load_region(info.data["region"]).timezone if "region" in info.data else "UTC"

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
    def allowed_networks(self) -> tuple[AllowedNetwork, ...]:
        """FEED_ALLOWED_NETWORKS parsed (validated at start-up)."""
        return tuple(AllowedNetwork.parse(n) for n in self.feed_allowed_networks)

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


def check_env_file(path: Path) -> None:
    """Raise ConfigError if ``path`` exists but cannot be read as a .env file: not UTF-8, or a
    line python-dotenv cannot parse (it would skip the line with a mere warning)."""
    if not path.exists():
        return
    if not path.is_file():
        raise ConfigError(f"{path}: expected a file of VARIABLE=value lines, found a directory")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
            f"{exc.start}); save it as UTF-8"
        ) from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            # Only the name: the value may be the token.
            name = binding.original.string.strip().split("=", 1)[0].strip()[:40]
            raise ConfigError(
                f"{path}, line {binding.original.line}: cannot parse the line of {name!r}; "
                "write VARIABLE=value (quotes must be closed)"
            )


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and .env); invalid values raise ConfigError."""
    env_file = overrides.get("_env_file", Settings.model_config.get("env_file"))
    if isinstance(env_file, str | Path):
        check_env_file(Path(env_file))
    try:
        return Settings(**overrides)
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
