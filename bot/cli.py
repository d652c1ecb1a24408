"""``newsbot``: the command line for operators and checks.

Output formats of ``feeds list``, ``ingest``, ``export`` and ``digest`` are stable and
documented in the README. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration
error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.clock import SystemClock
from bot.config import Settings, load_settings
from bot.errors import ConfigError, NewsBotError, UsageError
from bot.feeds.sources import export_opml, import_opml, load_sources, sources_to_toml
from bot.storage import Database
from bot.storage import feeds as feeds_repo

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings, TextIO], Coroutine[Any, Any, int]]


async def _open_db(settings: Settings) -> Database:
    db = Database(settings.database_url)
    await db.upgrade()
    return db


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
    clock = SystemClock()
    async with db.transaction() as conn:
        await feeds_repo.sync_sources(conn, load_sources(settings.feeds_file), clock.now())
        rows = await feeds_repo.list_feeds(conn)
        per_day = await feeds_repo.articles_per_day(conn, clock.now())
    await db.close()
    print("id\tstate\tbinding\tarticles_per_day\tconsecutive_errors\tlast_success\turl", file=out)
    for feed in rows:
        state = "broken" if feed.broken else ("enabled" if feed.enabled else "paused")
        last = feed.last_success_at.isoformat() if feed.last_success_at else "-"
        print(
            f"{feed.id}\t{state}\t{feed.binding}\t{per_day.get(feed.id, 0.0):.1f}\t"
            f"{feed.consecutive_errors}\t{last}\t{feed.url}",
            file=out,
        )
    return 0


async def cmd_feeds_import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    data = path.read_bytes()
    sources = load_sources(path) if path.suffix == ".toml" else import_opml(data, str(path))
    db = await _open_db(settings)
    now = SystemClock().now()
    async with db.transaction() as conn:
        for source in sources:
            await feeds_repo.add_feed(conn, source, now, origin="cli")
    await db.close()
    print(f"imported {len(sources)} feeds", file=out)
    return 0


async def cmd_feeds_export(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    db = await _open_db(settings)
    async with db.transaction() as conn:
        await feeds_repo.sync_sources(conn, load_sources(settings.feeds_file), SystemClock().now())
        sources = [f.source() for f in await feeds_repo.list_feeds(conn, enabled_only=True)]
    await db.close()
    out.write(export_opml(sources) if args.format == "opml" else sources_to_toml(sources))
    return 0


COMMANDS: dict[str, Command] = {
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
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        return asyncio.run(COMMANDS[name](args, settings, out or sys.stdout))
    except (ConfigError, UsageError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except NewsBotError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
