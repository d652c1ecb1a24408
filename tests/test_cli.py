"""The newsbot command line, run in-process against a real SQLite file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.cli import main, parse_duration
from bot.errors import UsageError
from bot.storage.database import alembic_config

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Панорама</title>
<item><title>В Куркино открыли площадку &amp; каток</title>
<link>https://szao.example/1?utm_source=tg</link><guid>szao-1</guid>
<description>В районе Куркино завершили ремонт спортивной площадки у школы. На площадке
установили тренажёры и новое покрытие для футбола и баскетбола.</description>
<pubDate>{date}</pubDate></item>
<item><title>Поликлиника в Хорошёво-Мнёвниках</title><link>https://szao.example/2</link>
<description>В районе Хорошёво-Мнёвники открылась поликлиника: принимают терапевты и педиатры.
</description><pubDate>{date}</pubDate></item>
</channel></rss>"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    empty = tmp_path / "feeds.toml"
    empty.write_text("")
    monkeypatch.setenv("FEEDS_FILE", str(empty))
    return tmp_path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def write_feed(folder: Path) -> Path:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    path = folder / "szao.xml"
    path.write_text(FEED.format(date=format_datetime(datetime.now(UTC) - timedelta(hours=2))))
    return path


def test_db_upgrade(env: Path) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert run("db", "upgrade") == (0, f"database at revision {head}\n")


def test_stats(env: Path) -> None:
    feed = write_feed(env)
    run("ingest", str(feed), "--okrug", "szao")
    code, out = run("stats")
    assert code == 0 and "Users" in out


def test_ingest_export_digest_roundtrip(env: Path) -> None:
    feed = write_feed(env)
    code, out = run("ingest", str(feed), "--okrug", "сзао")
    assert code == 0
    assert out.splitlines()[-1] == "new=2 updated=0 skipped=0 failed=0"
    # Ingesting the same file again stores nothing new.
    assert run("ingest", str(feed), "--okrug", "СЗАО")[1].splitlines()[-1] == (
        "new=0 updated=0 skipped=2 failed=0"
    )

    code, out = run("export", "--since", "7d")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(records) == 2
    kurkino = next(r for r in records if r["url"] == "https://szao.example/1")
    assert set(kurkino) == {
        "id",
        "url",
        "title",
        "published",
        "feed",
        "summary",
        "districts",
        "okrugs",
        "topics",
        "story_id",
    }
    assert kurkino["districts"] == [{"name": "Куркино", "slug": "kurkino", "okrug": "СЗАО"}]
    assert kurkino["okrugs"] == ["СЗАО"]
    assert "sport" in kurkino["topics"]
    assert kurkino["title"] == "В Куркино открыли площадку & каток"

    code, out = run("digest", "--district", "kurkino", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [i["url"] for i in data["items"]] == ["https://szao.example/1"]
    code, out = run("digest", "--district", "Kurkino", "--lang", "en", "--format", "html")
    assert code == 0 and '<a href="https://szao.example/1">' in out and "&amp; каток" in out
    code, out = run("digest", "--district", "Куркино")  # text: no tags, entities decoded
    assert code == 0 and "<a" not in out and "площадку & каток (https://szao.example/1)" in out


def test_digest_of_a_quiet_district_says_nothing_new(env: Path) -> None:
    code, out = run("digest", "--okrug", "ЗелАО", "--lang", "en")
    assert code == 0 and "Nothing new" in out


@pytest.mark.parametrize(
    "argv",
    [
        ("digest", "--district", "Нигде"),
        ("digest", "--okrug", "ХМАО"),
        ("digest", "--district", "kurkino", "--since", "yesterday"),
        ("digest", "--district", "kurkino", "--topic", "weather"),
        ("ingest", "x.xml", "--district", "Атлантида"),
        ("feeds", "import", "missing.opml"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    env: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(*argv)
    assert code == 2
    assert capsys.readouterr().err.startswith("newsbot: ")


def test_ingest_of_a_missing_file_reports_failure(env: Path) -> None:
    code, out = run("ingest", str(env / "nope.xml"))
    assert code == 1 and "failed" in out


def test_run_without_token_explains_itself(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("run")[0] == 2
    assert "BOT_TOKEN is not set" in capsys.readouterr().err


def test_invalid_config_names_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Moon/Base")
    assert run("db", "upgrade")[0] == 2
    assert "DEFAULT_TIMEZONE" in capsys.readouterr().err


def test_feeds_import_list_export(env: Path) -> None:
    opml = env / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        '<outline type="rss" text="Paper" xmlUrl="https://paper.example/rss" binding="szao"/>'
        "</body></opml>"
    )
    assert run("feeds", "import", str(opml)) == (0, "imported 1 feeds\n")
    code, out = run("feeds", "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split("\t") == [
        "id",
        "state",
        "binding",
        "articles_per_day",
        "consecutive_errors",
        "last_success",
        "url",
    ]
    assert row.split("\t")[1:3] == ["enabled", "okrug:szao"]
    _, out = run("feeds", "export")
    assert 'xmlUrl="https://paper.example/rss"' in out


def test_tag_explains_its_decisions(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = env / "a.txt"
    text.write_text("Жители района Хамовники обсудили ремонт школы.")
    code, out = run("tag", str(text))
    assert code == 0 and json.loads(out)["districts"] == ["khamovniki"]
    code, out = run("tag", str(text), "--explain")
    assert code == 0
    assert "+ district khamovniki: «Хамовники» (name with district context)" in out
    assert "education 3: школа 3" in out  # which words led to which topic


@pytest.mark.parametrize(("text", "hours"), [("90m", 1.5), ("24h", 24), ("7d", 168), ("2w", 336)])
def test_parse_duration(text: str, hours: float) -> None:
    assert parse_duration(text).total_seconds() == hours * 3600


@pytest.mark.parametrize("text", ["", "0h", "h", "5y", "-1d"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


RELEASE = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>
<item><title>{title}</title><link>{link}</link>
<description>{text}</description><pubDate>{date}</pubDate></item>
</channel></rss>"""
BRIDGE = (
    "Сергей Собянин открыл новый пешеходный мост через Москву-реку в районе Нагатинский Затон. "
    "Длина переправы составляет 270 метров, ширина — 9 метров. Мост соединил набережную "
    "Нагатинского Затона с парком «Коломенское». По нему смогут проходить до 6 тысяч человек в "
    "час. На мосту установили скамейки, смотровые площадки и подогреваемые пандусы для "
    "маломобильных пешеходов. Строительство продолжалось полтора года. Вечером мост "
    "подсвечивают 340 светодиодных светильников."
)
BRIDGE_COPY = (
    "Жители Нагатинского Затона получили прямой выход к парку «Коломенское»: мэр Сергей "
    "Собянин открыл пешеходную переправу через Москву-реку. Новый мост протянулся на 270 "
    "метров, а его ширина — 9 метров. Пропускная способность сооружения — 6 тысяч пешеходов "
    "ежечасно. Для отдыха на мосту предусмотрены скамьи и видовые площадки, для людей на "
    "колясках — пандусы с подогревом. Возводили объект полтора года, в тёмное время суток его "
    "освещают 340 светодиодных светильников."
)


def test_stories_explain_weighs_two_stored_articles(env: Path) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    now = datetime.now(UTC)
    for name, link, title, text, hours in (
        ("mosru", "https://mos.example/bridge", "Собянин открыл мост", BRIDGE, 8),
        ("yuao", "https://yuao.example/most", "Мост к Коломенскому", BRIDGE_COPY, 2),
    ):
        path = env / f"{name}.xml"
        date = format_datetime(now - timedelta(hours=hours))
        path.write_text(RELEASE.format(name=name, title=title, link=link, text=text, date=date))
        assert run("ingest", str(path))[0] == 0
    code, out = run("stories", "--explain", "https://yuao.example/most", "https://mos.example/bridge")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("A #2 ") and lines[0].endswith("Мост к Коломенскому")
    assert lines[1].startswith("B #1 ") and lines[1].endswith("Собянин открыл мост")
    assert lines[2] == "#2 weighed against #1, as the story index does (a candidate):"
    assert lines[3].startswith("score ") and lines[3].endswith(": same story")
    assert any("numbers agree: " in line and "светильник 340" in line for line in lines)
    assert any(line.strip().startswith("= logit") for line in lines)
    # Ids work as well as URLs, in either order; both articles were stored in one story.
    assert run("stories", "--explain", "1", "2")[1].splitlines()[2:] == lines[2:]
    story_ids = {line.split("story ")[1].split(":")[0] for line in lines[:2]}
    assert len(story_ids) == 1


def test_stories_explain_of_an_unknown_article_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("stories", "--explain", "1", "https://nowhere.example/x")[0] == 2
    assert "no stored article '1'" in capsys.readouterr().err
