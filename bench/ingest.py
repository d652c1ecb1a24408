"""Feed ingestion benchmark: fetch → parse → normalise → tag → store, end to end.

    .venv/bin/python -m bench.ingest [--feeds 200] [--items 100] [--executor process|thread]
        [--workers 2] [--understand worker|thread] [--store db|memory] [--runs 1]

A local HTTP server (a separate process, so its work is not counted) serves ``--feeds`` RSS
feeds of ``--items`` items each. Item texts are realistic Russian district news: sentences
drawn from ``tests/data/devset.jsonl``, varying districts, with some releases republished by
several feeds. The bot side is the real pipeline: :class:`Poller` with the real analyzer
(``digests.understanding``) and :class:`DatabaseFeedStore` on a SQLite file in a temporary
directory, migrated with ``Database.upgrade()``.

Prints:

* cold start (every feed new): end-to-end articles per second, and its ratio to bare
  ``feedparser.parse`` over the same bytes;
* steady state (``--cycles`` cycles where 95% of feeds answer 304 and 5% have one new item):
  CPU seconds per cycle of this process and of the worker processes (from /proc);
* the largest event-loop stall: max lateness of a task sleeping 5 ms (target < 50 ms), and
  the largest among ticks no full (generation-2) garbage collection overlapped; with
  ``--verbose`` the collector's pauses and what it tracks (what the full collections walk).

``--understand worker`` tags in the executor's worker processes (the bot's wiring);
``--understand thread`` tags in a thread of this process (the wiring before that change).
``--store memory`` isolates the feed layer: an in-memory store and no understanding at all,
so it does NOT measure tagging or the database.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import ipaddress
import json
import logging
import multiprocessing as mp
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import feedparser
from aiohttp import web
from sqlalchemy import update

from bot.feeds.fetch import Fetcher, FetchPolicy
from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import (
    ArticleRecord,
    FeedState,
    FetchOutcome,
    Poller,
    PollReport,
    PollStatus,
    Understand,
    UpsertResult,
)
from bot.logs import setup_logging

HOSTS = 10  # the server listens on 127.0.0.1 .. 127.0.0.10 so per-host limits act as in life
DEVSET = Path(__file__).resolve().parent.parent / "tests" / "data" / "devset.jsonl"
RELEASE_SHARE = 0.08  # items that are a city release republished by several feeds
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«A-ZА-ЯЁ0-9])")


# --- feed generation (server side) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextPool:
    sentences: tuple[str, ...]
    titles: tuple[str, ...]
    districts: tuple[str, ...]  # Russian names of Moscow districts

    @classmethod
    def load(cls) -> TextPool:
        from digests.region import load_region

        sentences: list[str] = []
        titles: list[str] = []
        for line in DEVSET.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            titles.append(row["title"])
            for para in row["text"].split("\n"):
                sentences += [s.strip() for s in _SENTENCE_END.split(para) if len(s.strip()) > 20]
        names = tuple(d.name("ru") for d in load_region("moscow").districts)
        return cls(tuple(sentences), tuple(titles), names)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_item_text(pool: TextPool, feed_no: int, item_no: int) -> tuple[str, list[str]]:
    """Title and paragraphs of one item: devset sentences about a varying district.

    About RELEASE_SHARE of items are a release shared by several feeds (same sentences,
    lightly edited per feed), so story grouping has real near-duplicates to find.
    """
    rng = random.Random(feed_no * 1_000_003 + item_no)
    if rng.random() < RELEASE_SHARE:
        src = random.Random(item_no)  # the same release for every feed that carries it
        sentences = src.sample(pool.sentences, src.randint(6, 9))
        district = src.choice(pool.districts)
        title = src.choice(pool.titles)
        if len(sentences) > 6 and rng.random() < 0.5:
            sentences.pop(rng.randrange(len(sentences)))  # this paper trimmed a sentence
    else:
        sentences = rng.sample(pool.sentences, rng.randint(5, 9))
        district = rng.choice(pool.districts)
        title = rng.choice(pool.titles)
    sentences.insert(
        rng.randrange(1, 3),
        f"Работы в районе {district} планируют завершить к {rng.randint(1, 28)} декабря.",
    )
    sentences.append(f"Об этом сообщили в управе района {district}.")
    paras = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    return title, paras


def make_feed(pool: TextPool, feed_no: int, items: int, version: int, base: datetime) -> bytes:
    """A realistic okrug-paper feed: ~1–1.5 KB HTML per item, Moscow time dates.

    Version v drops the oldest v items and adds v new ones on top.
    """
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>'
        f"<title>Газета округа №{feed_no}</title><link>https://paper{feed_no}.example/</link>"
        "<description>Новости округа</description>"
    ]
    for k in range(version, version + items):
        item_no = 10_000 - k  # newer versions add higher numbers on top
        title, paras = make_item_text(pool, feed_no, item_no)
        html = f'<p><img src="/uploads/{item_no}.jpg" alt="">{_html_escape(paras[0])}</p>'
        html += "".join(f"<p>{_html_escape(p)}</p>" for p in paras[1:])
        html += "<p>Фото: пресс-служба префектуры</p>"
        date = format_datetime(base - timedelta(minutes=17 * (k - version) + 10 * version))
        parts.append(
            f"<item><title>{_html_escape(title)}</title>"
            f"<link>https://paper{feed_no}.example/news/{item_no}?utm_source=rss</link>"
            f"<guid>https://paper{feed_no}.example/news/{item_no}</guid>"
            f"<pubDate>{date}</pubDate><category>Новости</category>"
            f"<description><![CDATA[{html}]]></description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def _serve(conn: Connection, feeds: int, items: int, base: datetime) -> None:
    pool = TextPool.load()
    versions = dict.fromkeys(range(feeds), 0)
    cache: dict[int, tuple[bytes, str]] = {}

    def body(i: int) -> tuple[bytes, str]:
        if i not in cache:
            data = make_feed(pool, i, items, versions[i], base)
            cache[i] = (data, '"' + hashlib.sha1(data).hexdigest()[:20] + '"')
        return cache[i]

    async def feed(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        data, etag = body(i)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=data, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )

    async def bump(request: web.Request) -> web.Response:
        changed = [int(s) for s in (await request.text()).split(",") if s]
        for i in changed:
            versions[i] += 1
            cache.pop(i, None)
            body(i)
        return web.Response(text="ok")

    async def main() -> None:
        for i in range(feeds):
            body(i)
        app = web.Application()
        app.router.add_get("/feed/{i}", feed)
        app.router.add_post("/bump", bump)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for h in range(1, HOSTS + 1):
            site = web.TCPSite(runner, f"127.0.0.{h}", 0)
            await site.start()
        ports = [addr[1] for addr in runner.addresses]
        conn.send(ports)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
        await runner.cleanup()

    asyncio.run(main())


# --- stores ---------------------------------------------------------------------------------


@dataclass
class MemoryStore:
    """Feed-layer isolation only (``--store memory``): no database, no tagging."""

    feeds: dict[int, FeedState] = field(default_factory=dict)
    next_poll: dict[int, datetime | None] = field(default_factory=dict)
    articles: dict[tuple[int, str], tuple[NormalizedArticle, object | None]] = field(
        default_factory=dict
    )

    def add_feed(self, url: str) -> None:
        fid = len(self.feeds) + 1
        self.feeds[fid] = FeedState(fid, url, timedelta(minutes=30))
        self.next_poll[fid] = None

    async def due_feeds(self, now: datetime, limit: int | None = None) -> Sequence[FeedState]:
        due = [f for fid, f in self.feeds.items() if (n := self.next_poll[fid]) is None or n <= now]
        return due[:limit] if limit is not None else due

    async def article_hashes(self, feed_id: int, identities: Sequence[str]) -> Mapping[str, str]:
        arts = self.articles
        return {i: arts[(feed_id, i)][0].content_hash for i in identities if (feed_id, i) in arts}

    async def upsert_articles(
        self, feed_id: int, articles: Sequence[ArticleRecord], seen_at: datetime
    ) -> UpsertResult:
        new = updated = unchanged = 0
        for rec in articles:
            key = (feed_id, rec.article.identity)
            old = self.articles.get(key)
            if old is not None and old[0].content_hash == rec.article.content_hash:
                unchanged += 1
                continue
            if old is None:
                new += 1
            else:
                updated += 1
            self.articles[key] = (rec.article, rec.understanding)
        return UpsertResult(new, updated, unchanged)

    async def save_outcome(self, outcome: FetchOutcome) -> None:
        f = self.feeds[outcome.feed_id]
        self.feeds[outcome.feed_id] = replace(
            f,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            body_hash=outcome.body_hash,
            ttl_minutes=outcome.ttl_minutes,
            health=outcome.health,
        )
        self.next_poll[outcome.feed_id] = outcome.next_poll_at


class Bench:
    """The store under test, how to make every feed due, and tagging counts."""

    def __init__(self, store: Any, make_all_due: Any, tagged: Any, close: Any) -> None:
        self.store = store
        self.make_all_due = make_all_due
        self.tagged = tagged
        self.close = close


async def memory_bench(urls: Sequence[str]) -> Bench:
    store = MemoryStore()
    for u in urls:
        store.add_feed(u)

    async def make_all_due() -> None:
        store.next_poll = dict.fromkeys(store.next_poll)

    async def tagged() -> tuple[int, int, int]:
        return len(store.articles), 0, 0

    async def close() -> None:
        return None

    return Bench(store, make_all_due, tagged, close)


async def database_bench(urls: Sequence[str], tmp: Path, now: datetime) -> Bench:
    from sqlalchemy import func, select

    from bot.feeds.sources import Binding, BindingKind, FeedSource
    from bot.ingest import DatabaseFeedStore, StoryAssigner
    from bot.storage import Database
    from bot.storage import feeds as feeds_repo
    from bot.storage import schema as s

    db = Database(f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    await db.upgrade()
    async with db.transaction() as conn:
        for u in urls:
            await feeds_repo.add_feed(conn, FeedSource(u, Binding(BindingKind.CITY)), now)
    store = DatabaseFeedStore(db, StoryAssigner())

    async def make_all_due() -> None:
        async with db.transaction() as conn:
            await conn.execute(update(s.feeds).values(next_poll_at=None))

    async def tagged() -> tuple[int, int, int]:
        async with db.transaction() as conn:
            total = await conn.scalar(select(func.count()).select_from(s.articles))
            done = await conn.scalar(
                select(func.count())
                .select_from(s.articles)
                .where(s.articles.c.tagged_at.is_not(None))
            )
            stories = await conn.scalar(select(func.count()).select_from(s.stories))
        return int(total or 0), int(done or 0), int(stories or 0)

    return Bench(store, make_all_due, tagged, db.close)


# --- measurement ------------------------------------------------------------------------------


class StallMeter:
    """Max lateness of a task that sleeps 5 ms: how long the loop was blocked at worst."""

    def __init__(self) -> None:
        self.max_late = 0.0
        self.over_50ms = 0
        self.late_at: list[tuple[float, float]] = []
        self.ticks: list[tuple[float, float, float]] = []  # (start, end, late) of late ticks
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        start = time.perf_counter()
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            end = time.perf_counter()
            late = end - t - 0.005
            self.max_late = max(self.max_late, late)
            if late > 0.01:
                self.ticks.append((t, end, late))
            if late > 0.05:
                self.over_50ms += 1
                self.late_at.append((round(t - start, 3), round(late * 1000, 1)))

    def max_late_without(self, pauses: Sequence[tuple[float, float]]) -> float:
        """Max lateness of ticks that no full garbage collection overlapped."""
        return max(
            (
                late
                for t, end, late in self.ticks
                if not any(p0 < end and p1 > t for p0, p1 in pauses)
            ),
            default=0.0,
        )

    def __enter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


class GcMeter:
    """Pauses of the cyclic garbage collector in this process, by generation."""

    def __init__(self) -> None:
        self.max_pause = [0.0, 0.0, 0.0]
        self.total = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self.full: list[tuple[float, float]] = []  # (start, end) of generation-2 collections
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        gen = info["generation"]
        now = time.perf_counter()
        pause = now - self._started
        if gen == 2:
            self.full.append((self._started, now))
        self.max_pause[gen] = max(self.max_pause[gen], pause)
        self.total[gen] += pause
        self.count[gen] += 1

    def __enter__(self) -> GcMeter:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def describe(self) -> str:
        return ", ".join(
            f"gen{g}: {self.count[g]}x, max {self.max_pause[g] * 1000:.0f} ms, "
            f"total {self.total[g]:.2f} s"
            for g in range(3)
        )


def _tracked_summary(top: int = 6) -> str:
    from collections import Counter

    objects = gc.get_objects()
    kinds = Counter(type(o).__name__ for o in objects)
    del objects
    return f"{sum(kinds.values()):,} total; " + ", ".join(
        f"{name} {n:,}" for name, n in kinds.most_common(top)
    )


_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pids: Sequence[int]) -> float:
    """User + system CPU seconds of live processes, from /proc/<pid>/stat."""
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return total


class CpuClock:
    """CPU of this process and of the executor's worker processes."""

    def __init__(self, executor: Executor | None) -> None:
        self.executor = executor

    def workers(self) -> list[int]:
        if isinstance(self.executor, ProcessPoolExecutor):
            return list(self.executor._processes or {})
        return []

    def read(self) -> tuple[float, float]:
        return time.process_time(), proc_cpu(self.workers())


async def _bump(base: str, ids: Sequence[int]) -> None:
    from aiohttp import ClientSession

    async with ClientSession() as s, s.post(base + "/bump", data=",".join(map(str, ids))) as r:
        await r.read()


@dataclass
class RunResult:
    stored: int
    cold_wall: float
    cold_cpu: float
    cold_worker_cpu: float
    cold_stall: float
    cold_over: int
    cold_stall_no_gc: float  # ticks not overlapped by a full garbage collection
    bare_rate: float
    bare_fast_rate: float
    # CPU main, CPU workers, wall, max stall, 304s, new articles, max stall outside full GCs
    cycles: list[tuple[float, float, float, float, int, int, float]]
    tagged: tuple[int, int, int]
    body_kb: float
    errors: int

    @property
    def rate(self) -> float:
        return self.stored / self.cold_wall

    @property
    def worst_stall(self) -> float:
        return max([self.cold_stall, *(c[3] for c in self.cycles)])

    @property
    def worst_stall_no_gc(self) -> float:
        return max([self.cold_stall_no_gc, *(c[6] for c in self.cycles)])

    @property
    def steady_cpu(self) -> float:
        return statistics.median(c[0] for c in self.cycles)

    @property
    def steady_worker_cpu(self) -> float:
        return statistics.median(c[1] for c in self.cycles)


def _understand_choice(args: argparse.Namespace) -> tuple[Understand | None, dict[str, Any]]:
    """The ``understand`` callable and extra Poller options for ``--understand``."""
    if args.store == "memory":
        return None, {}
    if args.understand == "thread":
        from bot.ingest import understand_article
        from digests.understanding import get_analyzer

        return partial(understand_article, get_analyzer("moscow")), {}
    from bot.ingest import understand_in_worker

    return partial(understand_in_worker, "moscow"), {"understand_in_executor": True}


async def run_once(args: argparse.Namespace) -> RunResult:
    if args.debug_slow:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = 0.05
        setup_logging(logging.WARNING)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    base = datetime.now(UTC).replace(microsecond=0)
    proc = ctx.Process(target=_serve, args=(child, args.feeds, args.items, base), daemon=True)
    proc.start()
    if not parent.poll(120):
        proc.kill()
        raise RuntimeError("the feed server did not start")
    ports: list[int] = parent.recv()
    urls = [
        f"http://127.0.0.{i % HOSTS + 1}:{ports[i % HOSTS]}/feed/{i}" for i in range(args.feeds)
    ]
    executor: Executor | None = None
    parse_concurrency = 1
    if args.executor == "process":
        executor = ProcessPoolExecutor(max_workers=args.workers, mp_context=ctx)
        parse_concurrency = args.workers
    policy = FetchPolicy(
        user_agent="MoscowDistrictNewsBot/bench",
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        global_concurrency=args.concurrency,
        per_host=2,
    )
    understand, extra = _understand_choice(args)
    clock = CpuClock(executor)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        if args.store == "db":
            bench = await database_bench(urls, Path(tmp), base)
        else:
            bench = await memory_bench(urls)
        try:
            async with Fetcher(policy) as fetcher:
                poller = Poller(
                    bench.store,
                    fetcher,
                    understand=understand,
                    executor=executor,
                    parse_concurrency=parse_concurrency,
                    **extra,
                )
                # One warm-up per worker: starts the processes, loads feedparser (and the
                # analyzer, when it runs there) before the clock starts.
                await asyncio.gather(*(poller.warm_up() for _ in range(max(1, args.workers))))
                if understand is not None and args.understand == "thread":
                    understand_warm = understand
                    await asyncio.to_thread(lambda: understand_warm(_WARM_ARTICLE))
                if args.gc_freeze:  # as the bot does after start-up
                    gc.collect()
                    gc.freeze()
                # Bytes for the bare-feedparser baseline: fetched once, outside the timing.
                sample = min(args.feeds, args.baseline_feeds)
                bodies = []
                for u in urls[:sample]:
                    r = await fetcher.fetch(u)
                    assert r.body is not None
                    bodies.append(r.body)

                # Cold start: every feed new.
                with StallMeter() as stall, GcMeter() as gcm:
                    (cpu0, wcpu0), t0 = clock.read(), time.perf_counter()
                    reports = await poller.poll_due(datetime.now(UTC))
                    cold_wall = time.perf_counter() - t0
                    cpu1, wcpu1 = clock.read()
                errors = _errors(reports)
                stored = sum(r.new for r in reports)
                cold = (stall.max_late, stall.over_50ms, stall.max_late_without(gcm.full))
                if args.verbose:
                    print("cold stalls > 50 ms (s since start, ms):", stall.late_at)
                    print("cold garbage collections:", gcm.describe())
                    print("objects tracked by the collector:", _tracked_summary())

                # Steady state: 5% of feeds changed (one new item each), the rest answer 304.
                rng = random.Random(1)
                cycles = []
                for _ in range(args.cycles):
                    changed = rng.sample(range(args.feeds), max(1, args.feeds // 20))
                    await _bump(f"http://127.0.0.1:{ports[0]}", changed)
                    await bench.make_all_due()
                    with StallMeter() as st, GcMeter() as cg:
                        (c0, w0), t0 = clock.read(), time.perf_counter()
                        reports = await poller.poll_due(datetime.now(UTC))
                        wall = time.perf_counter() - t0
                        c1, w1 = clock.read()
                    errors += _errors(reports)
                    statuses = [r.status for r in reports]
                    cycles.append(
                        (
                            c1 - c0,
                            w1 - w0,
                            wall,
                            st.max_late,
                            statuses.count(PollStatus.NOT_MODIFIED),
                            sum(r.new for r in reports),
                            st.max_late_without(cg.full),
                        )
                    )
                    if args.verbose:
                        print("steady stalls > 50 ms:", st.late_at)
                tagged = await bench.tagged()
        finally:
            parent.send("stop")
            proc.join(5)
            if executor is not None:
                executor.shutdown()
            await bench.close()
            if args.gc_freeze:
                gc.unfreeze()

    # Bare feedparser over the same bytes (the baseline the ratio refers to).
    entries = 0
    t0 = time.perf_counter()
    for b in bodies:
        entries += len(feedparser.parse(b).entries)
    bare_rate = entries / (time.perf_counter() - t0)
    entries_fast = 0
    t0 = time.perf_counter()
    for b in bodies:
        entries_fast += len(
            feedparser.parse(b, sanitize_html=False, resolve_relative_uris=False).entries
        )
    bare_fast_rate = entries_fast / (time.perf_counter() - t0)
    return RunResult(
        stored=stored,
        cold_wall=cold_wall,
        cold_cpu=cpu1 - cpu0,
        cold_worker_cpu=wcpu1 - wcpu0,
        cold_stall=cold[0],
        cold_over=cold[1],
        cold_stall_no_gc=cold[2],
        bare_rate=bare_rate,
        bare_fast_rate=bare_fast_rate,
        cycles=cycles,
        tagged=tagged,
        body_kb=statistics.mean(len(b) for b in bodies) / 1024,
        errors=errors,
    )


_WARM_ARTICLE = NormalizedArticle(
    "warm",
    None,
    "Разминка",
    "В районе Арбат открыли сквер.",
    datetime.now(UTC),
    None,
    (),
    None,
    "0",
)


def _errors(reports: Sequence[PollReport]) -> int:
    errors = [r for r in reports if r.status is PollStatus.ERROR]
    if errors:
        print(f"!! {len(errors)} feeds failed, e.g. {errors[0].error}")
    return len(errors)


def report(args: argparse.Namespace, r: RunResult) -> None:
    print(
        f"  cold: {r.stored} articles in {r.cold_wall:.2f} s -> {r.rate:,.0f} articles/s "
        f"(ratio to bare feedparser {r.rate / r.bare_rate:.2f}; bare {r.bare_rate:,.0f}/s, "
        f"bare sanitize/resolve off {r.bare_fast_rate:,.0f}/s); "
        f"CPU main {r.cold_cpu:.1f} s, workers {r.cold_worker_cpu:.1f} s; "
        f"max stall {r.cold_stall * 1000:.1f} ms ({r.cold_over} ticks > 50 ms; "
        f"{r.cold_stall_no_gc * 1000:.1f} ms outside full garbage collections)"
    )
    for n, (cpu, wcpu, wall, late, not_mod, new, _) in enumerate(r.cycles, 1):
        print(
            f"  steady cycle {n}: CPU main {cpu:.3f} s + workers {wcpu:.3f} s, wall {wall:.3f} s,"
            f" {not_mod} x 304, {new} new, max stall {late * 1000:.1f} ms"
        )
    total, done, stories = r.tagged
    if args.store == "db":
        print(f"  database: {total} articles, {done} tagged, {stories} stories")
    print(
        f"  => {r.rate:,.0f} articles/s, ratio {r.rate / r.bare_rate:.2f}, "
        f"max stall {r.worst_stall * 1000:.1f} ms ({r.worst_stall_no_gc * 1000:.1f} ms outside "
        f"full GCs), steady CPU/cycle main {r.steady_cpu:.3f} s"
        f" + workers {r.steady_worker_cpu:.3f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=3, help="steady-state cycles")
    ap.add_argument("--runs", type=int, default=1, help="repeat and print medians")
    ap.add_argument("--executor", choices=["thread", "process"], default="process")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (bot: 1)")
    ap.add_argument(
        "--understand",
        choices=["worker", "thread"],
        default="worker",
        help="tag in the executor's worker (bot wiring) or in a thread of this process",
    )
    ap.add_argument(
        "--store",
        choices=["db", "memory"],
        default="db",
        help="db: real DatabaseFeedStore + analyzer; memory: feed layer only, no tagging",
    )
    ap.add_argument("--verbose", action="store_true", help="list stalls over 50 ms")
    ap.add_argument(
        "--debug-slow", action="store_true", help="asyncio debug: log callbacks over 50 ms"
    )
    ap.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="skip the gc.freeze() after start-up that the bot does (bot/runtime.py)",
    )
    ap.add_argument("--concurrency", type=int, default=20, help="global fetch concurrency")
    ap.add_argument(
        "--baseline-feeds",
        type=int,
        default=40,
        help="feeds used for the bare-feedparser baseline rate",
    )
    args = ap.parse_args()
    if args.executor == "thread":
        args.workers = 0
    print(
        f"feeds={args.feeds} items={args.items} executor={args.executor} workers={args.workers}"
        f" understand={args.understand if args.store == 'db' else 'none'} store={args.store}"
        f" load average={' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    results = []
    for n in range(args.runs):
        r = asyncio.run(run_once(args))
        print(f"run {n + 1} (avg body {r.body_kb:.0f} KB):")
        report(args, r)
        results.append(r)
    if args.runs > 1:
        med = statistics.median
        print(
            f"median of {args.runs}: {med(r.rate for r in results):,.0f} articles/s, "
            f"ratio {med(r.rate / r.bare_rate for r in results):.2f}, "
            f"max stall {med(r.worst_stall for r in results) * 1000:.1f} ms "
            f"({med(r.worst_stall_no_gc for r in results) * 1000:.1f} ms outside full GCs), "
            f"steady CPU/cycle main {med(r.steady_cpu for r in results):.3f} s"
            f" + workers {med(r.steady_worker_cpu for r in results):.3f} s"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
