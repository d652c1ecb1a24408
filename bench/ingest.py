"""Feed ingestion benchmark: fetch from a local server, parse, normalise, store (in memory).

    .venv/bin/python -m bench.ingest [--feeds 200] [--items 100] [--executor thread|process]

Prints: end-to-end articles per second on a cold start (every feed new) and its ratio to bare
``feedparser.parse`` over the same bytes; a steady-state cycle where 95% of feeds answer 304
(CPU seconds per cycle, via time.process_time); and the largest event-loop stall seen by a
ticker that sleeps 5 ms (target < 50 ms). The HTTP server runs in a separate process so its
work is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import ipaddress
import multiprocessing as mp
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from multiprocessing.connection import Connection

import feedparser
from aiohttp import web

from bot.feeds.fetch import Fetcher, FetchPolicy
from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import (
    ArticleRecord,
    FeedState,
    FetchOutcome,
    Poller,
    PollStatus,
    UpsertResult,
)

HOSTS = 10  # the server listens on 127.0.0.1 .. 127.0.0.10 so per-host limits act as in life

WORDS = [
    "жители",
    "района",
    "Хорошёво-Мнёвники",
    "Строгино",
    "Митино",
    "Куркино",
    "Щукино",
    "Тушино",
    "префектура",
    "управа",
    "благоустройство",
    "двор",
    "парк",
    "школа",
    "поликлиника",
    "ремонт",
    "дорога",
    "транспорт",
    "метро",
    "автобус",
    "программа",
    "реновации",
    "дом",
    "квартира",
    "праздник",
    "концерт",
    "выставка",
    "библиотека",
    "спорт",
    "каток",
    "субботник",
    "экология",
    "мэр",
    "Москвы",
    "Собянин",
    "открыли",
    "начали",
    "завершили",
    "планируют",
    "сообщили",
]


# --- feed generation (server side) ----------------------------------------------------------


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def make_feed(feed_no: int, items: int, version: int) -> bytes:
    """A realistic okrug-paper feed: ~1.5 KB HTML per item, Moscow time dates.

    Version v drops the oldest v items and adds v new ones on top.
    """
    base = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>'
        f"<title>Газета округа №{feed_no}</title><link>https://paper{feed_no}.example/</link>"
        "<description>Новости округа</description>"
    ]
    for k in range(version, version + items):
        item_no = 10_000 - k  # newer versions add higher numbers on top
        rng = random.Random(feed_no * 1_000_003 + item_no)
        paras = "".join(f"<p>{_sentence(rng, 18)} {_sentence(rng, 14)}</p>" for _ in range(3))
        html = (
            f'<p><img src="/uploads/{item_no}.jpg" alt="">{_sentence(rng, 10)}</p>{paras}'
            "<p>Фото: пресс-служба префектуры</p>"
        )
        date = format_datetime(base - timedelta(minutes=17 * k)).replace("-0000", "+0000")
        parts.append(
            f"<item><title>{_sentence(rng, 8)}</title>"
            f"<link>https://paper{feed_no}.example/news/{item_no}?utm_source=rss</link>"
            f"<guid>https://paper{feed_no}.example/news/{item_no}</guid>"
            f"<pubDate>{date}</pubDate><category>Новости</category>"
            f"<description><![CDATA[{html}]]></description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def _serve(conn: Connection, feeds: int, items: int) -> None:
    versions = dict.fromkeys(range(feeds), 0)
    cache: dict[int, tuple[bytes, str]] = {}

    def body(i: int) -> tuple[bytes, str]:
        if i not in cache:
            data = make_feed(i, items, versions[i])
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
        for s in (await request.text()).split(","):
            if s:
                versions[int(s)] += 1
                cache.pop(int(s), None)
        return web.Response(text="ok")

    async def main() -> None:
        for i in range(feeds):
            body(i)
        app = web.Application()
        app.router.add_get("/feed/{i}", feed)
        app.router.add_post("/bump", bump)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ports = []
        for h in range(1, HOSTS + 1):
            site = web.TCPSite(runner, f"127.0.0.{h}", 0)
            await site.start()
        ports = [addr[1] for addr in runner.addresses]
        conn.send(ports)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
        await runner.cleanup()

    asyncio.run(main())


# --- in-memory store (same semantics as the test double) -------------------------------------


@dataclass
class MemoryStore:
    feeds: dict[int, FeedState] = field(default_factory=dict)
    next_poll: dict[int, datetime | None] = field(default_factory=dict)
    articles: dict[tuple[int, str], tuple[NormalizedArticle, object | None]] = field(
        default_factory=dict
    )

    def add_feed(self, url: str) -> None:
        fid = len(self.feeds) + 1
        self.feeds[fid] = FeedState(fid, url, timedelta(minutes=30))
        self.next_poll[fid] = None

    def make_all_due(self) -> None:
        self.next_poll = dict.fromkeys(self.next_poll)

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


# --- measurement ------------------------------------------------------------------------------


class StallMeter:
    """Max lateness of a task that sleeps 5 ms: how long the loop was blocked at worst."""

    def __init__(self) -> None:
        self.max_late = 0.0
        self.over_50ms = 0
        self.late_at: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        start = time.perf_counter()
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - t - 0.005
            self.max_late = max(self.max_late, late)
            if late > 0.05:
                self.over_50ms += 1
                self.late_at.append((round(t - start, 3), round(late * 1000, 1)))

    def __enter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def _understand(article: NormalizedArticle) -> object:
    return len(article.text)  # trivial stand-in for the news-understanding step


async def _bump(base: str, ids: Sequence[int]) -> None:
    from aiohttp import ClientSession

    async with ClientSession() as s, s.post(base + "/bump", data=",".join(map(str, ids))) as r:
        await r.read()


async def run(args: argparse.Namespace) -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, args.feeds, args.items), daemon=True)
    proc.start()
    ports: list[int] = parent.recv()
    urls = [
        f"http://127.0.0.{i % HOSTS + 1}:{ports[i % HOSTS]}/feed/{i}" for i in range(args.feeds)
    ]
    executor: Executor | None = None
    parse_concurrency = 1
    if args.executor == "process":
        executor = ProcessPoolExecutor(max_workers=2, mp_context=ctx)
        parse_concurrency = 2
    policy = FetchPolicy(
        user_agent="MoscowDistrictNewsBot/bench",
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        global_concurrency=args.concurrency,
        per_host=2,
    )
    store = MemoryStore()
    for u in urls:
        store.add_feed(u)
    try:
        async with Fetcher(policy) as fetcher:
            poller = Poller(
                store,
                fetcher,
                understand=_understand,
                executor=executor,
                parse_concurrency=parse_concurrency,
            )
            await poller.warm_up()
            # Bytes for the bare-feedparser baseline: fetched once, outside the timing.
            sample = min(args.feeds, args.baseline_feeds)
            bodies = []
            for u in urls[:sample]:
                r = await fetcher.fetch(u)
                assert r.body is not None
                bodies.append(r.body)

            # Cold start: every feed new.
            with StallMeter() as stall:
                cpu0, t0 = time.process_time(), time.perf_counter()
                reports = await poller.poll_due(datetime.now(UTC))
                cold_wall = time.perf_counter() - t0
                cold_cpu = time.process_time() - cpu0
            errors = [r for r in reports if r.status is PollStatus.ERROR]
            stored = sum(r.new for r in reports)
            if errors:
                print(f"!! {len(errors)} feeds failed, e.g. {errors[0].error}")
            cold_stall = stall.max_late
            cold_over = stall.over_50ms
            if args.verbose:
                print("stalls > 50 ms (s since start, ms):", stall.late_at)

            # Steady state: 5% of feeds changed (one new item each), the rest answer 304.
            rng = random.Random(1)
            cycles = []
            for _ in range(args.cycles):
                changed = rng.sample(range(args.feeds), max(1, args.feeds // 20))
                await _bump(f"http://127.0.0.1:{ports[0]}", changed)
                store.make_all_due()
                with StallMeter() as stall:
                    cpu0, t0 = time.process_time(), time.perf_counter()
                    reports = await poller.poll_due(datetime.now(UTC))
                    wall = time.perf_counter() - t0
                    cpu = time.process_time() - cpu0
                statuses = [r.status for r in reports]
                cycles.append(
                    (
                        cpu,
                        wall,
                        stall.max_late,
                        statuses.count(PollStatus.NOT_MODIFIED),
                        sum(r.new for r in reports),
                    )
                )
    finally:
        parent.send("stop")
        proc.join(5)
        if executor is not None:
            executor.shutdown()

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

    rate = stored / cold_wall
    body_kb = statistics.mean(len(b) for b in bodies) / 1024
    print(
        f"feeds={args.feeds} items={args.items} executor={args.executor} avg body={body_kb:.0f} KB"
    )
    print("cold start (all new):")
    print(f"  stored {stored} articles in {cold_wall:.2f} s wall, {cold_cpu:.2f} s CPU")
    print(f"  end-to-end: {rate:,.0f} articles/s")
    print(
        f"  bare feedparser.parse (defaults), {sample} feeds: {bare_rate:,.0f} entries/s"
        f"  -> ratio end-to-end/bare = {rate / bare_rate:.2f}"
    )
    print(
        f"  bare feedparser.parse (sanitize/resolve off): {bare_fast_rate:,.0f} entries/s"
        f"  -> ratio = {rate / bare_fast_rate:.2f}"
    )
    print(f"  max event-loop stall: {cold_stall * 1000:.1f} ms ({cold_over} ticks late > 50 ms)")
    print(f"steady state ({args.cycles} cycles, 95% of feeds answer 304):")
    for n, (cpu, wall, late, not_mod, new) in enumerate(cycles, 1):
        print(
            f"  cycle {n}: {cpu:.3f} s CPU, {wall:.3f} s wall, {not_mod} x 304, "
            f"{new} new articles, max stall {late * 1000:.1f} ms"
        )
    med_cpu = statistics.median(c[0] for c in cycles)
    if args.executor == "process":
        print("  (CPU of this process only: parsing in the worker processes is not included)")
    print(
        f"  median CPU per cycle: {med_cpu:.3f} s ({med_cpu / args.feeds * 1000:.2f} ms per feed)"
    )
    worst = max([cold_stall, *(c[2] for c in cycles)])
    print(f"largest event-loop stall overall: {worst * 1000:.1f} ms (target < 50 ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=3, help="steady-state cycles")
    ap.add_argument("--executor", choices=["thread", "process"], default="process")
    ap.add_argument("--verbose", action="store_true", help="list stalls over 50 ms")
    ap.add_argument("--concurrency", type=int, default=20, help="global fetch concurrency")
    ap.add_argument(
        "--baseline-feeds",
        type=int,
        default=40,
        help="feeds used for the bare-feedparser baseline rate",
    )
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
