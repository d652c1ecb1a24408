"""Another city is another folder of data: a tiny city, its feed served over HTTP on
127.0.0.1, through ``newsbot ingest`` and ``newsbot digest`` with REGION pointing at it."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main

LOCAL = ZoneInfo("Asia/Yekaterinburg")  # the tiny city's zone: feed dates without one are in it

REGION = {
    "city": {
        "slug": "prirechye",
        "name_ru": "Приречье",
        "name_en": "Prirechye",
        "timezone": "Asia/Yekaterinburg",
    },
    "okrugs": [
        {
            "slug": "levoberezhny",
            "abbr": "ЛБО",
            "abbr_en": "LBO",
            "name_ru": "Левобережный округ",
            "name_en": "Left Bank Okrug",
        },
        {
            "slug": "pravoberezhny",
            "abbr": "ПБО",
            "abbr_en": "PBO",
            "name_ru": "Правобережный округ",
            "name_en": "Right Bank Okrug",
        },
    ],
    "districts": [
        {"slug": "zaton", "name_ru": "Затон", "name_en": "Zaton", "okrug": "levoberezhny"},
        {
            "slug": "beryozovka",
            "name_ru": "Берёзовка",
            "name_en": "Beryozovka",
            "okrug": "levoberezhny",
        },
        {"slug": "nagorny", "name_ru": "Нагорный", "name_en": "Nagorny", "okrug": "pravoberezhny"},
    ],
}
# «Нагорный» is also an ordinary adjective here: a district only with district context.
NAMES = {"ambiguous_districts": {"nagorny": {"needs_context": True}}}

ITEM = """<item><title>{title}</title><link>{link}</link><guid>{link}</guid>
<description>{text}</description><pubDate>{date}</pubDate></item>"""


def _feed(published_local: datetime) -> bytes:
    date = published_local.strftime("%a, %d %b %Y %H:%M:%S")  # no zone: local time
    items = [
        ITEM.format(
            title="В Затоне открыли библиотеку",
            link="https://prirechye.example/1",
            text="В районе Затон после ремонта открылась библиотека: читальный зал, "
            "детский отдел и лекторий. Жители Затона могут записаться бесплатно.",
            date=date,
        ),
        ITEM.format(
            title="Нагорный склон укрепят",
            link="https://prirechye.example/2",
            text="Нагорный склон над рекой укрепят до осени, работы оплатит город.",
            date=date,
        ),
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Левобережные вести</title>{''.join(items)}</channel></rss>"
    ).encode()


@pytest.fixture
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "prirechye"
    folder.mkdir()
    (folder / "region.json").write_text(json.dumps(REGION, ensure_ascii=False), "utf-8")
    (folder / "names.json").write_text(json.dumps(NAMES, ensure_ascii=False), "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGION", str(folder))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'city.sqlite3'}")
    monkeypatch.setenv("FEED_ALLOWED_NETWORKS", "127.0.0.0/8")
    monkeypatch.delenv("DEFAULT_TIMEZONE", raising=False)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    empty = tmp_path / "feeds.toml"
    empty.write_text("")
    monkeypatch.setenv("FEEDS_FILE", str(empty))
    return folder


@pytest.fixture
def feed_url() -> Iterator[tuple[str, datetime]]:
    """The city paper's feed on a real HTTP server on 127.0.0.1."""
    published = datetime.now(LOCAL).replace(microsecond=0, tzinfo=None) - timedelta(hours=3)
    body = _feed(published)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rss", published
    finally:
        server.shutdown()
        server.server_close()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_ingest_and_digest_in_a_second_city(city: Path, feed_url: tuple[str, datetime]) -> None:
    url, published_local = feed_url
    code, out = run("ingest", url, "--okrug", "ЛБО")
    assert code == 0, out
    assert out.splitlines()[-1] == "new=2 updated=0 skipped=0 failed=0", out

    code, out = run("export")
    records = {r["url"]: r for r in map(json.loads, out.splitlines())}
    library = records["https://prirechye.example/1"]
    assert library["districts"] == [{"name": "Затон", "slug": "zaton", "okrug": "ЛБО"}]
    assert library["okrugs"] == ["ЛБО"]
    # The date without a zone is the city's local time, from region.json.
    assert library["published"] == published_local.replace(tzinfo=LOCAL).astimezone(UTC).isoformat()
    # names.json: «Нагорный» without district context is an adjective, not the district.
    assert records["https://prirechye.example/2"]["districts"] == []

    code, out = run("digest", "--district", "Затон", "--format", "json")
    items = json.loads(out)["items"]
    assert code == 0
    # The library is district news; the okrug paper's other piece names no district.
    assert [(i["url"], i["districts"], i["section"]) for i in items] == [
        ("https://prirechye.example/1", ["zaton"], "district"),
        ("https://prirechye.example/2", [], "okrug"),
    ]
    code, out = run("digest", "--district", "zaton")
    assert code == 0
    assert out.startswith("Новости района Затон · ")
    assert "\nВ Затоне открыли библиотеку (https://prirechye.example/1)\n" in out
    assert "📍 ЛБО" in out  # the okrug piece is marked with the city's own abbreviation


def test_tag_and_bad_names_use_the_configured_city(city: Path, tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("В районе Берёзовка и в районе Нагорный почистили дворы.", "utf-8")
    code, out = run("tag", str(text))
    assert code == 0
    tagged = json.loads(out)
    assert tagged["districts"] == ["beryozovka", "nagorny"]
    assert tagged["okrugs"] == ["levoberezhny", "pravoberezhny"]
    # Moscow's names mean nothing here.
    assert run("digest", "--district", "Куркино")[0] == 2
