"""Delivery benchmark: drain a queued outbox through the fake Bot API server over HTTP.

    .venv/bin/python -m bench.delivery [--messages 10000] [--rate 25] [--server-rate 30]
        [--latency 0,0.05,0.15:0.05,0.3] [--server process|thread]
        [--blocked 0.01] [--inject-429 4] [--in-flight 1] [--database-url URL]

The fake server runs in its own process (``python -m bot.testing serve``; ``--server
thread``: its own thread and event loop in this process) and answers every request after
the ``--latency`` round trip (SECONDS[:JITTER]; several, comma-separated, run one round
each on a fresh database). It enforces ``--server-rate`` messages per second globally and
one per second per chat, answers 403 for a share of blocked users and 429 at a few
injected points. A quarter of the users get a two-part digest (per-chat spacing matters).
Prints, per round, the sustained request rate as a ratio to the configured rate (target
>= 0.95), lost and duplicated messages and chats out of order from the server's
recording (target 0, 0, 0), and the 429s received; then a table of the rounds. At the
default size a round takes about N / rate seconds (~7 minutes) when the round trip allows.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import insert

from bot.delivery import Outcome, Sender, SenderConfig
from bot.storage import outbox
from bot.storage import schema as s
from bot.storage.database import Database
from bot.storage.outbox import OutboxMessage, OutboxRow
from bot.testing import DEFAULT_TOKEN, Call, FakeTelegram, Latency, RateLimits
from bot.testing.process import FakeTelegramProcess
from bot.testing.report import compare_delivery

T = TypeVar("T")
SENDS = {"sendmessage", "sendphoto", "copymessage"}


class FakeServer(Protocol):
    """What the benchmark needs from the fake, in a thread or in a process."""

    base_url: str

    async def prepare(self, latency: Latency, limits: RateLimits, blocked: set[int]) -> None: ...
    async def inject_429(self) -> None: ...
    async def send_calls(self) -> list[Call]: ...
    async def stop(self) -> None: ...


class ThreadServer:
    """The fake on its own event loop in a thread, so its work does not slow the sender's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def make() -> FakeTelegram:
            return await FakeTelegram().start()

        self.fake = self._call(make())
        self.base_url = self.fake.base_url

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        async def call() -> Any:
            return fn(*args, **kwargs)

        return self._call(call())

    async def prepare(self, latency: Latency, limits: RateLimits, blocked: set[int]) -> None:
        def setup() -> None:
            self.fake.reset()
            self.fake.set_latency(latency)
            self.fake.set_rate_limits(limits)
            for chat in blocked:
                self.fake.block(chat)

        self._run(setup)

    async def inject_429(self) -> None:
        self._run(self.fake.fail_next, "sendMessage", error_code=429, retry_after=1)

    async def send_calls(self) -> list[Call]:
        calls: list[Call] = self._run(self.fake.calls)
        return [c for c in calls if c.method.lower() in SENDS]

    async def stop(self) -> None:
        self._call(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class ProcessServer:
    """The fake in its own process (``python -m bot.testing serve``), driven over HTTP."""

    def __init__(self, process: FakeTelegramProcess) -> None:
        self.process = process
        self.base_url = process.base_url

    @classmethod
    async def start(cls) -> ProcessServer:
        return cls(await FakeTelegramProcess().start())

    async def prepare(self, latency: Latency, limits: RateLimits, blocked: set[int]) -> None:
        client = self.process.client
        await client.reset()
        await client.set_latency(latency)
        await client.set_rate_limits(limits)
        for chat in blocked:
            await client.set_chat_error(chat, "blocked")

    async def inject_429(self) -> None:
        await self.process.client.fail_next("sendMessage", error_code=429, retry_after=1)

    async def send_calls(self) -> list[Call]:
        calls = await self.process.client.calls()
        return [c for c in calls if c.method.lower() in SENDS]

    async def stop(self) -> None:
        await self.process.stop()


def plan(messages: int) -> list[tuple[int, int]]:
    """(chat id, part) pairs: every fourth user gets a two-part digest."""
    result: list[tuple[int, int]] = []
    for user in itertools.count(1):
        chat = 10_000_000 + user
        for part in (1, 2) if user % 4 == 0 else (1,):
            result.append((chat, part))
            if len(result) == messages:
                return result
    raise AssertionError("unreachable")


async def prepare(db: Database, pairs: list[tuple[int, int]]) -> list[OutboxMessage]:
    now = datetime.now(UTC)
    chats = sorted({chat for chat, _ in pairs})
    rows = [{"id": c, "chat_id": c, "created_at": now, "updated_at": now} for c in chats]
    messages = [
        OutboxMessage(
            f"bench:{chat}:{part}",
            chat,
            {
                "method": "sendMessage",
                "text": f"<b>Дайджест</b> bench:{chat}:{part}",
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
            },
            user_id=chat,
        )
        for chat, part in pairs
    ]
    async with db.transaction() as conn:
        await conn.execute(insert(s.users), rows)
        await outbox.enqueue(conn, messages, now)
    return messages


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True)
class Round:
    latency: Latency
    ratio: float
    delivered_per_second: float
    lost: int
    duplicated: int
    reordered: int
    floods: int

    @property
    def passed(self) -> bool:
        return self.ratio >= 0.95 and not (self.lost or self.duplicated or self.reordered)


async def run_round(args: argparse.Namespace, server: FakeServer, latency: Latency) -> Round:
    tmp = tempfile.TemporaryDirectory(prefix="bench-delivery-")
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    db = Database(url)
    await db.upgrade()
    async with db.transaction() as conn:
        if (await outbox.counts(conn))["queued"] or await outbox.has_queued(conn):
            raise SystemExit("the database already has an outbox; use an empty one")

    pairs = plan(args.messages)
    messages = await prepare(db, pairs)
    chats = sorted({chat for chat, _ in pairs})
    blocked = set(chats[:: int(1 / args.blocked)] if args.blocked > 0 else [])
    limits = RateLimits(global_per_second=args.server_rate, per_chat_per_second=1)
    await server.prepare(latency, limits, blocked)
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bot = Bot(
        DEFAULT_TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )

    inject_at = {args.messages * (i + 1) // (args.inject_429 + 1) for i in range(args.inject_429)}
    done = 0
    injected = 0

    async def on_outcome(row: OutboxRow, outcome: Outcome) -> None:
        nonlocal done, injected
        if outcome.final:
            done += 1
            if done in inject_at:
                injected += 1
                await server.inject_429()
            if done % 1000 == 0:
                print(f"  {done} rows finished", file=sys.stderr, flush=True)

    config = SenderConfig(rate=args.rate, max_in_flight=args.in_flight)
    sender = Sender(db, bot, config, on_outcome=on_outcome)
    print(
        f"{args.messages} messages to {len(chats)} users ({len(blocked)} blocked), "
        f"rate {args.rate}/s, server limit {args.server_rate}/s, round trip "
        f"{latency.mean * 1000:g}±{latency.jitter * 1000:g} ms ({args.server} server)",
        file=sys.stderr,
        flush=True,
    )
    wall = time.monotonic()
    stats = await sender.run_until_empty()
    wall = time.monotonic() - wall
    await bot.session.close()

    calls = await server.send_calls()
    async with db.transaction() as conn:
        states = await outbox.counts(conn)
    await db.close()
    tmp.cleanup()

    times = sorted(c.timestamp for c in calls)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    ok = sorted((c for c in calls if c.status == 200), key=lambda c: c.seq)
    floods = [c for c in calls if c.status == 429]
    forbidden = [c for c in calls if c.status == 403]
    pause = len(floods) * (1 + config.retry_after_margin)
    expected: dict[int, list[str]] = {}
    for m in messages:
        if m.chat_id not in blocked:
            expected.setdefault(m.chat_id, []).append(m.idempotency_key)
    received: dict[int, list[str]] = {}
    for c in ok:
        received.setdefault(int(c.params["chat_id"]), []).append(str(c.params["text"]).split()[-1])
    report = compare_delivery(expected, received)
    per_chat: dict[int, list[float]] = {}
    for c in ok:
        per_chat.setdefault(int(c.params["chat_id"]), []).append(c.timestamp)
    gaps = [b - a for ts in per_chat.values() for a, b in itertools.pairwise(ts)]
    rate = (len(calls) - 1) / span
    ratio = rate / args.rate

    print(f"database:            {db.dialect}, in flight: {args.in_flight}")
    print(f"round trip:          {latency.mean * 1000:g} ms ± {latency.jitter * 1000:g} ms")
    print(f"messages queued:     {len(messages)} ({report.expected} to reachable users)")
    print(f"wall time:           {wall:.1f} s (sending span {span:.1f} s)")
    print(
        f"requests:            {len(calls)} ({len(ok)} ok, {len(forbidden)} 403, {len(floods)} 429)"
    )
    print(
        f"sustained rate:      {rate:.2f} req/s = {ratio:.3f} x configured {args.rate:g}/s"
        f"  [target >= 0.95: {'PASS' if ratio >= 0.95 else 'FAIL'}]"
    )
    print(
        f"  without 429 pauses: {(len(calls) - 1) / (span - pause):.2f} req/s;"
        f" delivered {len(ok) / span:.2f} msg/s"
    )
    print(f"max in any 1 s:      {max_in_window(times)} (server limit {args.server_rate})")
    print(f"min same-chat gap:   {min(gaps, default=float('nan')):.3f} s")
    print(
        f"429 received:        {len(floods)} ({injected} injected, "
        f"{len(floods) - injected} from the server's limits)"
    )
    clean = not (report.lost or report.duplicated or report.reordered)
    print(
        f"lost:                {report.lost_count}  duplicated: {report.duplicate_count}"
        f"  out of order: {len(report.reordered)} chats"
        f"  [target 0, 0 and 0: {'PASS' if clean else 'FAIL'}]"
    )
    print(f"outbox states:       {states}")
    print(f"sender stats:        {stats}", flush=True)
    return Round(
        latency=latency,
        ratio=ratio,
        delivered_per_second=len(ok) / span,
        lost=report.lost_count,
        duplicated=report.duplicate_count,
        reordered=len(report.reordered),
        floods=len(floods),
    )


async def run(args: argparse.Namespace) -> int:
    latencies = [Latency.parse(item) for item in args.latency.split(",")]
    if args.database_url and len(latencies) > 1:
        print("--database-url takes a single --latency (each round needs an empty outbox)")
        return 2
    server: FakeServer = await ProcessServer.start() if args.server == "process" else ThreadServer()
    rounds: list[Round] = []
    try:
        for latency in latencies:
            rounds.append(await run_round(args, server, latency))
            print()
    finally:
        await server.stop()
    print("round trip   ratio   delivered/s   lost   duplicated   out of order   429")
    for r in rounds:
        print(
            f"{r.latency.mean * 1000:>7g} ms   {r.ratio:5.3f}   {r.delivered_per_second:11.2f}"
            f"   {r.lost:4d}   {r.duplicated:10d}   {r.reordered:12d}   {r.floods:3d}"
        )
    return 0 if all(r.passed for r in rounds) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="configured send rate")
    parser.add_argument("--server-rate", type=int, default=30, help="fake server's limit")
    parser.add_argument(
        "--latency",
        default="0",
        help="round trip(s) of the fake, SECONDS[:JITTER], comma-separated (default 0)",
    )
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    parser.add_argument("--blocked", type=float, default=0.01, help="share of blocked users")
    parser.add_argument("--inject-429", type=int, default=4, help="injected 429 answers")
    parser.add_argument("--in-flight", type=int, default=1, help="SenderConfig.max_in_flight")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite)")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
