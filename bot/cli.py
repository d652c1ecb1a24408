"""``newsbot``: the command line for operators and checks.

Output formats of ``feeds list``, ``ingest``, ``export`` and ``digest`` are stable and
documented in the README. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration
error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.clock import FixedClock, SystemClock
from bot.config import Settings, load_settings
from bot.errors import ConfigError, NewsBotError, UsageError
from bot.feeds.errors import SourcesError
from bot.feeds.fetch import Fetcher
from bot.feeds.poller import Poller, PollReport, PollStatus
from bot.feeds.sources import (
    Binding,
    BindingKind,
    FeedSource,
    export_opml,
    import_opml,
    load_sources,
    sources_to_toml,
)
from bot.ingest import (
    DatabaseFeedStore,
    StoryAssigner,
    ingest_file,
    understand_article,
)
from bot.logs import SecretFilter, setup_logging
from bot.services.digests import DigestService
from bot.services.feeds import FeedService, fetch_policy
from bot.services.stats import StatsService, format_stats
from bot.services.subscriptions import Subscriptions
from bot.storage import Database
from bot.storage.articles import exported_articles
from bot.storage.database import describe_error, open_database
from digests.composition import html_to_text
from digests.region import Region, load_region
from digests.understanding import TOPICS, Analyzer, get_analyzer

__all__ = ["main"]

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, Settings, TextIO], Coroutine[Any, Any, int]]


async def _open_db(settings: Settings) -> Database:
    return await open_database(settings.database_url)


async def cmd_run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.runtime import run_bot

    settings.token  # noqa: B018 - fail now, with instructions, when there is no token
    await run_bot(settings)
    return 0


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    db = await _open_db(settings)
    print(f"database at revision {await db.current_revision()}", file=out)
    await db.close()
    return 0


async def cmd_feeds_list(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    db = await _open_db(settings)
    feeds = FeedService(db, settings, SystemClock(), load_region(settings.region))
    await feeds.sync_file()
    statuses = await feeds.statuses()
    await db.close()
    print("id\tstate\tbinding\tarticles_per_day\tconsecutive_errors\tlast_success\turl", file=out)
    for status in statuses:
        feed = status.feed
        state = "broken" if feed.broken else ("enabled" if feed.enabled else "paused")
        last = feed.last_success_at.isoformat() if feed.last_success_at else "-"
        print(
            f"{feed.id}\t{state}\t{feed.binding}\t{status.articles_per_day:.1f}\t"
            f"{feed.consecutive_errors}\t{last}\t{feed.url}",
            file=out,
        )
    return 0


async def cmd_feeds_import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    region = load_region(settings.region)
    sources = (
        load_sources(path, region)
        if path.suffix == ".toml"
        else import_opml(data, str(path), region=region)
    )
    db = await _open_db(settings)
    imported = await FeedService(db, settings, SystemClock(), region).import_sources(sources, "cli")
    await db.close()
    print(f"imported {imported} feeds", file=out)
    return 0


async def cmd_feeds_export(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    region = load_region(settings.region)
    db = await _open_db(settings)
    feeds = FeedService(db, settings, SystemClock(), region)
    await feeds.sync_file()
    sources = await feeds.enabled_sources()
    await db.close()
    out.write(
        export_opml(sources, title=f"{region.name_en} district news feeds")
        if args.format == "opml"
        else sources_to_toml(sources)
    )
    return 0


_DURATION = re.compile(r"^([0-9]+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DURATION = timedelta(days=100 * 366)  # "since the beginning" is well within this


def parse_duration(text: str) -> timedelta:
    """'90m', '24h', '7d', '2w' -> timedelta, from one minute to 100 years."""
    shown = text if len(text) <= 30 else text[:27] + "..."
    match = _DURATION.match(text.strip().lower())
    digits = match.group(1).lstrip("0") if match else ""
    if match is None or not digits:
        raise UsageError(f"invalid duration {shown!r}: use a number and m, h, d or w, e.g. 24h")
    per_unit = timedelta(**{_UNITS[match.group(2)]: 1})
    if len(digits) > 12 or int(digits) > MAX_DURATION // per_unit:
        raise UsageError(f"duration {shown!r} is too long: at most {MAX_DURATION.days}d")
    return per_unit * int(digits)


def _binding(args: argparse.Namespace, region: Region) -> Binding:
    if args.okrug:
        okrug = region.find_okrug(args.okrug)
        if okrug is None:
            raise UsageError(f"unknown okrug {args.okrug!r}: use e.g. СЗАО, szao or its full name")
        return Binding(BindingKind.OKRUG, okrug.slug)
    if args.district:
        district = region.find_district(args.district)
        if district is None:
            raise UsageError(
                f"unknown district {args.district!r}: use its Russian or English name or slug"
            )
        return Binding(BindingKind.DISTRICT, district.slug)
    return Binding(BindingKind.CITY)


async def cmd_ingest(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Fetch each SOURCE once (URL or local file) and store new articles."""
    region = load_region(settings.region)
    binding = _binding(args, region)
    db = await _open_db(settings)
    now = SystemClock().now()
    analyzer = get_analyzer(settings.region)
    store = DatabaseFeedStore(db, StoryAssigner())
    # Feeds are registered at the run's instant, so that they are due at it.
    feeds = FeedService(db, settings, FixedClock(now), region)
    async with db.transaction() as conn:
        await store.assigner.warm(conn, now)
    fetcher = Fetcher(fetch_policy(settings))
    poller = Poller(
        store,
        fetcher,
        understand=lambda a: understand_article(analyzer, a),
        local_tz=ZoneInfo(region.timezone),
    )
    totals = {"new": 0, "updated": 0, "skipped": 0, "failed": 0}
    try:
        for source in args.sources:
            try:
                report = await _ingest_one(source, binding, feeds, store, analyzer, poller, now)
            except (SQLAlchemyError, OSError) as exc:
                report = PollReport(0, source, PollStatus.ERROR, error=describe_error(exc))
            except Exception as exc:  # a bug: this source fails, the others go on
                log.debug("ingesting %s failed", source, exc_info=True)
                error = f"internal error: {type(exc).__name__}: {exc}"
                report = PollReport(0, source, PollStatus.ERROR, error=error)
            if report is None:
                print(f"{source}\tskipped\tfeed is paused", file=out)
                continue
            ok = report.error is None
            totals["new"] += report.new
            totals["updated"] += report.updated
            totals["skipped"] += report.skipped + report.unchanged
            totals["failed"] += 0 if ok else 1
            detail = report.error or f"new={report.new} updated={report.updated}"
            print(f"{source}\t{'ok' if ok else 'failed'}\t{detail}", file=out)
    finally:
        await fetcher.close()
        await db.close()
    print(
        f"new={totals['new']} updated={totals['updated']} skipped={totals['skipped']} "
        f"failed={totals['failed']}",
        file=out,
    )
    return 1 if totals["failed"] and totals["failed"] == len(args.sources) else 0


async def _ingest_one(
    source: str,
    binding: Binding,
    feeds: FeedService,
    store: DatabaseFeedStore,
    analyzer: Analyzer,
    poller: Poller,
    now: datetime,
) -> PollReport | None:
    """One SOURCE of ``newsbot ingest``: a URL, or a file (a relative path is resolved); None
    when the feed is paused."""
    if "://" not in source:
        path = Path(source).resolve()
        if not path.is_file():
            return PollReport(0, source, PollStatus.ERROR, error="no such file")
        feed = await feeds.register(FeedSource(path.as_uri(), binding, name=path.name), "cli")
        return await ingest_file(store, analyzer, feed.id, path, now)
    feed = await feeds.register(FeedSource(source, binding), "cli")
    state = next((f for f in await store.due_feeds(now) if f.feed_id == feed.id), None)
    if state is None:
        return None
    return await poller.poll_one(state, now)


async def cmd_export(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """One JSON object per stored article (JSON Lines)."""
    since = SystemClock().now() - parse_duration(args.since) if args.since else None
    db = await _open_db(settings)
    region = load_region(settings.region)
    async with db.transaction() as conn:
        async for article in exported_articles(conn, since):
            record = {
                "id": article.id,
                "url": article.url,
                "title": article.title,
                "published": article.published_at.isoformat(),
                "feed": article.feed_url,
                "summary": article.summary,
                "districts": [
                    {
                        "name": region.district(d).name_ru,
                        "slug": d,
                        "okrug": region.okrug(region.district(d).okrug).abbr,
                    }
                    for d in article.districts
                ],
                "okrugs": [region.okrug(o).abbr for o in article.okrugs],
                "topics": list(article.topics),
                "story_id": article.story_id,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    await db.close()
    return 0


async def cmd_digest(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """The digest a subscriber with these settings would get now, printed."""
    region = load_region(settings.region)
    districts, okrugs = set(), set()
    for name in args.district or ():
        district = region.find_district(name)
        if district is None:
            raise UsageError(f"unknown district {name!r}")
        districts.add(district.slug)
    for name in args.okrug or ():
        okrug = region.find_okrug(name)
        if okrug is None:
            raise UsageError(f"unknown okrug {name!r}")
        okrugs.add(okrug.slug)
    unknown = set(args.topic or ()) - set(TOPICS)
    if unknown:
        raise UsageError(f"unknown topic(s) {sorted(unknown)}: choose from {', '.join(TOPICS)}")
    subs = Subscriptions(frozenset(districts), frozenset(okrugs), frozenset(args.topic or ()))
    since = parse_duration(args.since)
    db = await _open_db(settings)
    try:
        ready = await DigestService(db, settings, SystemClock(), region).preview(
            subs, args.lang, since, settings.default_timezone
        )
    finally:
        await db.close()
    digest = ready.digest
    if args.format == "json":
        items = [
            {
                "story_id": i.story.story_id,
                "title": i.story.title,
                "url": i.story.url,
                "lead": i.story.lead,
                "section": i.section.value,
                "districts": list(i.districts),
                "topics": list(i.topics),
                "sources": i.story.source_count,
                "available": i.story.available_at.isoformat(),
            }
            for i in digest.items
        ]
        out.write(
            json.dumps({"items": items, "omitted": digest.omitted}, ensure_ascii=False, indent=2)
            + "\n"
        )
        return 0
    for n, part in enumerate(ready.messages):
        if n:
            out.write("\n" + "-" * 40 + "\n")
        out.write((part if args.format == "html" else html_to_text(part)) + "\n")
    return 0


async def cmd_tag(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Districts, okrugs and topics of one text; --explain shows why."""
    try:
        text = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"cannot read {args.file}: {reason}") from None
    analyzer = get_analyzer(settings.region)
    if args.explain:
        out.write(analyzer.explain(args.title, text).render() + "\n")
        return 0
    u = analyzer.understand(args.title, text)
    out.write(
        json.dumps(
            {
                "districts": list(u.districts),
                "okrugs": list(u.okrugs),
                "topics": list(u.topics),
                "summary": u.summary,
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    return 0


async def cmd_stats(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """The same numbers as /stats, for the terminal."""
    from bot.i18n import translator

    db = await _open_db(settings)
    stats = await StatsService(db, SystemClock()).collect()
    await db.close()
    region = load_region(settings.region)
    out.write(format_stats(stats, translator(args.lang), args.lang, region=region) + "\n")
    return 0


class _StoredArticle(NamedTuple):
    id: int
    feed_id: int
    url: str
    canonical_url: str
    title: str
    text: str
    published_at: datetime
    story_id: int | None


async def cmd_stories(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Why two stored articles are, or are not, one story: the later one weighed against the
    earlier as the story index does, every piece of evidence with its contribution."""
    from sqlalchemy import or_, select
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.storage import schema
    from bot.storage.articles import recent_signatures
    from digests.understanding.stories import StoryFeatures, StoryIndex

    a = schema.articles.c
    columns = (a.id, a.feed_id, a.url, a.canonical_url, a.title, a.text, a.published_at,
               a.story_id)  # fmt: skip

    async def stored(conn: AsyncConnection, ref: str) -> _StoredArticle:
        """An article by its id or by its (canonical) URL."""
        match = a.id == int(ref) if ref.isdigit() else or_(a.url == ref, a.canonical_url == ref)
        row = (await conn.execute(select(*columns).where(match).limit(1))).first()
        if row is None:
            raise UsageError(f"no stored article {ref!r} (give an article id or its URL)")
        return _StoredArticle(*row)

    index = StoryIndex()
    db = await _open_db(settings)
    try:
        async with db.transaction() as conn:
            pair = [await stored(conn, ref) for ref in args.explain]
            later, earlier = sorted(pair, key=lambda r: (r.published_at, r.id), reverse=True)
            # The index as the later article met it: the window of stored signatures before it.
            rows = await recent_signatures(conn, later.published_at - index.window)
    finally:
        await db.close()
    if later.id == earlier.id:
        raise UsageError("give two different articles")
    for sig in rows:
        if sig.article_id != later.id and sig.published_at <= later.published_at:
            index.add(sig.article_id, sig.story_id, StoryFeatures.from_bytes(sig.signature),
                      sig.published_at, url=sig.canonical_url, source=str(sig.feed_id))  # fmt: skip
    analyzer = get_analyzer(settings.region)
    # Both texts are understood afresh: the evidence is complete whatever the stored format.
    index.add(earlier.id, earlier.story_id or 0, analyzer.understand(earlier.title,
              earlier.text).story, earlier.published_at, source=str(earlier.feed_id))  # fmt: skip
    features = analyzer.understand(later.title, later.text).story
    for label, article in (("A", pair[0]), ("B", pair[1])):
        out.write(
            f"{label} #{article.id} {article.published_at:%Y-%m-%d %H:%M} UTC, "
            f"feed {article.feed_id}, story {article.story_id}: {article.title}\n"
        )
    hours = (later.published_at - earlier.published_at).total_seconds() / 3600
    window = index.window.total_seconds() / 3600
    if hours > window:
        out.write(f"#{later.id} came {hours:.0f} h after #{earlier.id}: outside the "
                  f"{window:.0f} h window, never compared\n")  # fmt: skip
        return 0
    found = earlier.id in index.candidates(features, later.published_at)
    out.write(
        f"#{later.id} weighed against #{earlier.id}, as the story index does "
        f"({'a candidate' if found else 'not proposed as a candidate'}):\n"
    )
    verdict = index.explain(features, later.published_at, earlier.id, source=str(later.feed_id))
    out.write("\n".join(verdict.lines()) + "\n")
    return 0


COMMANDS: dict[str, Command] = {
    "stats": cmd_stats,
    "stories": cmd_stories,
    "ingest": cmd_ingest,
    "export": cmd_export,
    "digest": cmd_digest,
    "tag": cmd_tag,
    "run": cmd_run,
    "db upgrade": cmd_db_upgrade,
    "feeds list": cmd_feeds_list,
    "feeds import": cmd_feeds_import,
    "feeds export": cmd_feeds_export,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Moscow district news digests in Telegram."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot: polling, feed poller and scheduler")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply database migrations")

    feeds = sub.add_parser("feeds", help="list, import and export feeds")
    feeds_sub = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    feeds_sub.add_parser("list", help="list feeds with their health (tab-separated)")
    imp = feeds_sub.add_parser("import", help="add feeds from an OPML or TOML file")
    imp.add_argument("file", type=Path)
    exp = feeds_sub.add_parser("export", help="print the enabled feeds as OPML or TOML")
    exp.add_argument("--format", choices=("opml", "toml"), default="opml")

    ingest = sub.add_parser("ingest", help="fetch feeds (URLs or local files) once and store them")
    ingest.add_argument("sources", nargs="+", metavar="SOURCE")
    where = ingest.add_mutually_exclusive_group()
    where.add_argument("--okrug", metavar="ABBR", help="the sources are okrug papers")
    where.add_argument("--district", metavar="NAME", help="the sources are district papers")

    export = sub.add_parser("export", help="print stored articles as JSON Lines")
    export.add_argument("--format", choices=("jsonl",), default="jsonl")
    export.add_argument("--since", metavar="DURATION", help="only articles newer than e.g. 7d")

    digest = sub.add_parser("digest", help="print the digest a subscriber would get now")
    digest.add_argument("--district", action="append", metavar="NAME")
    digest.add_argument("--okrug", action="append", metavar="ABBR")
    digest.add_argument("--topic", action="append", metavar="SLUG")
    digest.add_argument("--since", metavar="DURATION", default="24h")
    digest.add_argument("--lang", choices=("ru", "en"), default="ru")
    digest.add_argument("--format", choices=("text", "html", "json"), default="text")

    stats = sub.add_parser("stats", help="users, subscriptions, deliveries and feed health")
    stats.add_argument("--lang", choices=("ru", "en"), default="en")

    tag = sub.add_parser("tag", help="districts and topics of a text (from FILE or stdin)")
    tag.add_argument("file", nargs="?", metavar="FILE")
    tag.add_argument("--title", default="")
    tag.add_argument("--explain", action="store_true", help="show which words led where")

    stories = sub.add_parser("stories", help="why two stored articles are (not) one story")
    stories.add_argument("--explain", nargs=2, metavar=("A", "B"), required=True,
                         help="two stored articles: ids or URLs")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration
    error; every failure is one ``newsbot: ...`` line on standard error, never a traceback."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "digest" and not (args.district or args.okrug):
        parser.error("digest needs at least one --district or --okrug")
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    redact = SecretFilter()
    try:
        settings = load_settings()
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        redact = setup_logging(settings.log_level, secrets=[token] if token else [])
        return asyncio.run(COMMANDS[name](args, settings, out or sys.stdout))
    except (ConfigError, UsageError, SourcesError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except NewsBotError as exc:
        print(f"newsbot: {redact.redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except (SQLAlchemyError, OSError) as exc:  # the database or the disk failed mid-command
        print(f"newsbot: {redact.redact(describe_error(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line here, the traceback in the log at DEBUG
        log.debug("newsbot %s failed", name, exc_info=True)
        print(
            f"newsbot: unexpected error: {type(exc).__name__}: {redact.redact(str(exc))} "
            "(LOG_LEVEL=DEBUG shows where)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
