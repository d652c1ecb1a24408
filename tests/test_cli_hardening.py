"""Every bad command line and setting of issue 15 gets one clear line and exit code 2 (usage or
configuration) or 1 (runtime), never a traceback; `newsbot ingest` goes on past a bad source.

Most cases run the CLI's ``main`` in-process with captured output; a few run the real
``newsbot`` entry point in a subprocess.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import PG_ADMIN_URL

FEED = """<?xml version="1.0" encoding="{encoding}"?><rss version="2.0">
<channel><title>Панорама</title><ttl>{ttl}</ttl>
<item><title>В Куркино открыли площадку</title><link>https://szao.example/{n}/1</link>
<description>В районе Куркино завершили ремонт спортивной площадки у школы.</description>
<pubDate>{date}</pubDate></item>
<item><title>Поликлиника в Хорошёво-Мнёвниках</title><link>https://szao.example/{n}/2</link>
<description>В районе Хорошёво-Мнёвники открылась поликлиника.</description>
<pubDate>{date}</pubDate></item>
</channel></rss>"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name in ("BOT_TOKEN", "REDIS_URL", "ADMIN_IDS", "FEED_ALLOWED_NETWORKS", "LOG_LEVEL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    empty = tmp_path / "feeds.toml"
    empty.write_text("")
    monkeypatch.setenv("FEEDS_FILE", str(empty))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, out.getvalue(), err


def write_feed(path: Path, *, encoding: str = "utf-8", ttl: str = "30", n: int = 1) -> Path:
    date = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    text = FEED.format(encoding=encoding, ttl=ttl, date=date, n=n)
    path.write_bytes(text.encode("cp1251" if encoding == "windows-1251" else "utf-8"))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- newsbot ingest ------------------------------------------------------------------------


def test_ingest_accepts_a_relative_path(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_feed(env / "feed.xml")
    code, out, _ = run(capsys, "ingest", "feed.xml", "--okrug", "szao")
    assert code == 0
    assert out.splitlines() == [
        "feed.xml\tok\tnew=2 updated=0",
        "new=2 updated=0 skipped=0 failed=0",
    ]


def test_ingest_goes_on_past_bad_sources_with_a_reason_each(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_feed(env / "good.xml", n=1)
    # Crashed the batch before: a charset that is no text encoding, a <ttl> of «²».
    write_feed(env / "odd.xml", encoding="hex", ttl="²", n=2)
    (env / "page.html").write_text("<html><body><p>not a feed</p></body></html>")
    (env / "bomb.xml").write_bytes(b'<rss version="2.0"><channel><title>' + b"<b>" * 300_000)
    write_feed(env / "last.xml", n=3)
    code, out, _ = run(
        capsys, "ingest", "good.xml", "odd.xml", "page.html", "missing.xml", "bomb.xml", "last.xml"
    )
    lines = [line.split("\t") for line in out.splitlines()]
    assert code == 0
    assert [(source, state) for source, state, *_ in lines[:-1]] == [
        ("good.xml", "ok"),
        ("odd.xml", "ok"),
        ("page.html", "failed"),
        ("missing.xml", "failed"),
        ("bomb.xml", "failed"),
        ("last.xml", "ok"),
    ]
    reasons = {source: detail for source, _, detail in lines[:-1]}
    assert reasons["page.html"].startswith("not an RSS/Atom feed")
    assert reasons["missing.xml"] == "no such file"
    assert reasons["bomb.xml"].startswith("too much markup")
    assert lines[-1] == ["new=6 updated=0 skipped=0 failed=3"]


def test_ingest_of_only_bad_sources_exits_1(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "page.html").write_text("<html></html>")
    assert run(capsys, "ingest", "page.html", "nope.xml")[0] == 1


# --- durations and files -------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("export", "--since", "99999999999999999999d"),
        ("export", "--since", "9" * 5000 + "d"),
        ("digest", "--district", "kurkino", "--since", "99999999999999999999d"),
        ("digest", "--okrug", "szao", "--since", "5300w"),
        ("tag", "no-such-file.txt"),
    ],
)
def test_bad_arguments_exit_2(
    env: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith("newsbot: ") and err.count("\n") == 1


def test_the_longest_duration_is_accepted(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "export", "--since", "36600d")[0] == 0


@pytest.mark.parametrize(
    ("opml", "reason"),
    [
        ('<opml version="2.0"><body>' + '<outline text="x">' * 5000 + "</outline>" * 5000
         + "</body></opml>", "nested deeper than 50 levels"),
        ('<opml version="2.0"><body>' + '<outline text="x"/>' * 10_001 + "</body></opml>",
         "more than 10000 outlines"),
        ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
         "<opml><body/></opml>", "DTD or entity declarations"),
        ("\x00\x01 not xml", "invalid OPML"),
    ],
)  # fmt: skip
def test_hostile_opml_is_refused_with_a_reason(
    env: Path, opml: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "feeds.opml").write_text(opml)
    code, _, err = run(capsys, "feeds", "import", "feeds.opml")
    assert code == 2 and reason in err


# --- the database --------------------------------------------------------------------------


def test_a_file_that_is_not_sqlite(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "notes.txt").write_text("These are my notes, not a database. " * 50)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{env / 'notes.txt'}")
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 1
    assert "cannot use the database" in err and "file is not a database" in err


def test_a_sqlite_path_that_cannot_exist(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "file").write_text("")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{env / 'file' / 'db.sqlite3'}")
    code, _, err = run(capsys, "export")
    assert code == 1 and "cannot use the database" in err


def test_an_unreachable_database_server(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql+asyncpg://newsbot:secret@127.0.0.1:{free_port()}/newsbot"
    )
    code, _, err = run(capsys, "feeds", "list")
    assert code == 1 and "cannot use the database" in err
    assert "secret" not in err  # the password is not shown


@pytest.mark.postgres
def test_a_missing_postgres_database(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    import asyncpg

    async def reachable() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(reachable())
    except OSError as exc:
        from tests.conftest import service_unavailable

        service_unavailable(f"PostgreSQL at {PG_ADMIN_URL}", exc)
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    monkeypatch.setenv("DATABASE_URL", f"{base}/newsbot_no_such_database")
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 1 and 'database "newsbot_no_such_database" does not exist' in err


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FEED_BROKEN_AFTER_HOURS", "inf"),
        ("FEED_BROKEN_AFTER_HOURS", "1e300"),
        ("FEED_BROKEN_AFTER_HOURS", "nan"),
        ("ADMIN_IDS", "0"),
        ("ADMIN_IDS", "-5"),
        ("ADMIN_IDS", "12345678901234567890"),
        ("ADMIN_IDS", "42, 0"),
        ("FEED_ALLOWED_NETWORKS", "0.0.0.0/0"),
        ("FEED_ALLOWED_NETWORKS", "::/0"),
        ("FEED_ALLOWED_NETWORKS", "10.0.0.0/8, 8.8.8.0/24"),
        ("FEED_ALLOWED_NETWORKS", "10.0.0.5:99999"),
        ("FEED_ALLOWED_NETWORKS", "not-a-network"),
        ("REDIS_URL", "localhost:6379"),
        ("REDIS_URL", "redis://127.0.0.1:port/0"),
        ("DATABASE_URL", "sqlite+aiosqlite://:x@/"),
        ("RETENTION_DAYS", "99999999999"),
        ("CONTACT_URL", "https://a.example/\r\nX-Injected: 1"),
        ("PARSE_WORKERS", "0"),
        ("FEED_PARSE_TIMEOUT", "inf"),
    ],
)
def test_nonsense_settings_are_refused_naming_the_variable(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2, err
    assert f"  {variable}: " in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FEED_ALLOWED_NETWORKS", "10.0.0.0/8, 10.0.0.5:8080, [fd00::1]:8080, fd00::/8"),
        ("FEED_ALLOWED_NETWORKS", "127.0.0.1 192.168.0.0/16"),
        ("ADMIN_IDS", "1, 4503599627370495"),
        ("FEED_BROKEN_AFTER_HOURS", "0.5"),
        ("LOG_LEVEL", "debug"),
    ],
)
def test_sensible_settings_are_accepted(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert run(capsys, "db", "upgrade")[0] == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"CONTACT_URL=caf\xe9\n", "not UTF-8"),
        (b"\xff\xfe\x00B\x00O\x00T", "not UTF-8"),
        (b'ADMIN_IDS=1\nBOT_TOKEN="123456789:AAEsecretsecretsecretsecretsecret\nX=1\n', "line 2"),
        (None, "found a directory"),
    ],
)
def test_a_broken_env_file_is_a_configuration_error(
    env: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, reason: str
) -> None:
    if content is None:
        (env / ".env").mkdir()
    else:
        (env / ".env").write_bytes(content)
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2 and reason in err and ".env" in err
    assert "secretsecret" not in err


def test_a_dead_redis_is_refused_at_start(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram = free_port()  # nothing listens: the bot must not get that far
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAE" + "x" * 32)
    monkeypatch.setenv("TELEGRAM_API_BASE", f"http://127.0.0.1:{telegram}")
    monkeypatch.setenv("REDIS_URL", f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    code, _, err = run(capsys, "run")
    assert code == 1
    assert err.startswith("newsbot: REDIS_URL: cannot use Redis at redis://127.0.0.1:")
    assert "hunter2" not in err
    assert not (env / "cli.sqlite3").exists()  # refused before touching the database


# --- the real entry point ------------------------------------------------------------------


def newsbot(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        cwd=cwd,
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_real_entry_point_answers_without_tracebacks(env: Path) -> None:
    database = f"sqlite+aiosqlite:///{env / 'real.sqlite3'}"
    feeds = str(env / "feeds.toml")
    write_feed(env / "feed.xml")
    ok = newsbot(env, "ingest", "feed.xml", DATABASE_URL=database, FEEDS_FILE=feeds)
    assert ok.returncode == 0 and "feed.xml\tok\tnew=2" in ok.stdout, ok.stderr
    since = newsbot(env, "export", "--since", "99999999999999999999d", DATABASE_URL=database)
    assert since.returncode == 2 and "too long" in since.stderr
    (env / ".env").write_bytes(b"CONTACT_URL=caf\xe9\n")
    broken = newsbot(env, "db", "upgrade", DATABASE_URL=database)
    assert broken.returncode == 2 and "not UTF-8" in broken.stderr
    for result in (ok, since, broken):
        assert "Traceback" not in result.stderr
