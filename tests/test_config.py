from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from bot.config import BUNDLED_FEEDS_FILE, load_settings
from bot.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "BOT_TOKEN",
        "DATABASE_URL",
        "ADMIN_IDS",
        "DEFAULT_TIMEZONE",
        "POLL_INTERVAL",
        "DEFAULT_DIGEST_TIME",
        "TELEGRAM_API_BASE",
        "FEEDS_FILE",
        "LOG_LEVEL",
        "REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///data/newsbot.sqlite3"
    assert settings.default_language == "ru"
    assert settings.default_timezone == "Europe/Moscow"
    assert settings.default_digest_time == time(8, 0)
    assert settings.feeds_file == BUNDLED_FEEDS_FILE
    assert settings.bot_token is None
    assert settings.region == "moscow"


def test_the_region_gives_the_default_time_zone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "town"
    folder.mkdir()
    city = {"slug": "town", "name_ru": "Город", "name_en": "Town", "timezone": "Asia/Omsk"}
    region = {"city": city, "okrugs": [], "districts": []}
    (folder / "region.json").write_text(json.dumps(region), "utf-8")
    monkeypatch.setenv("REGION", str(folder))
    settings = load_settings()
    assert (settings.region, settings.default_timezone) == (str(folder), "Asia/Omsk")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Kaliningrad")
    assert load_settings().default_timezone == "Europe/Kaliningrad"


def test_an_unknown_region_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "atlantis")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).splitlines()[1:] == [
        "  REGION: expected a bundled city or a folder with region.json: "
        "no region 'atlantis' (bundled: moscow)"
    ]


def test_values_from_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("ADMIN_IDS=1, 2,3\nPOLL_INTERVAL=120\n")
    monkeypatch.setenv("BOT_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setenv("DEFAULT_DIGEST_TIME", "07:30")
    settings = load_settings()
    assert settings.admin_ids == {1, 2, 3}
    assert settings.poll_interval == 120
    assert settings.default_digest_time == time(7, 30)
    assert settings.token == "123456:" + "A" * 35


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE: expected an IANA time zone"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: expected a SQLAlchemy URL"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN: expected a token from @BotFather"),
        ("POLL_INTERVAL", "5", "POLL_INTERVAL:"),
        ("DEFAULT_DIGEST_TIME", "8am", "DEFAULT_DIGEST_TIME: expected a time of day as HH:MM"),
        ("TELEGRAM_API_BASE", "localhost:8081", "TELEGRAM_API_BASE: expected an http(s) URL"),
        ("FEEDS_FILE", "/nonexistent/feeds.toml", "FEEDS_FILE: expected an existing TOML file"),
        ("ADMIN_IDS", "12,bob", "ADMIN_IDS:"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL:"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert expected in str(info.value)


def test_missing_token_explains_how_to_get_one() -> None:
    with pytest.raises(ConfigError, match="@BotFather"):
        _ = load_settings().token


def test_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "123456:" + "S" * 35
    monkeypatch.setenv("BOT_TOKEN", secret)
    settings = load_settings()
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
