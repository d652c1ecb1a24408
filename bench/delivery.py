"""Delivery benchmark: drain a queued outbox through the fake Bot API server over HTTP.

    .venv/bin/python -m bench.delivery [--messages 10000] [--rate 25] [--server-rate 30]
        [--blocked 0.01] [--inject-429 4] [--in-flight 1] [--database-url URL]

The fake server (its own thread and event loop) enforces ``--server-rate`` messages per
second globally and one per second per chat, answers 403 for a share of blocked users and
429 at a few injected points. A quarter of the users get a two-part digest (per-chat
spacing matters). Prints the sustained request rate as a ratio to the configured rate
(target >= 0.95), lost and duplicated messages from the server's recording (target 0 and 0),
and the 429s received. At the default size this takes about N / rate seconds (~7 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert

from bot.delivery import Outcome, Sender, SenderConfig
from bot.storage import outbox
from bot.storage import schema as s
from bot.storage.database import Database
from bot.storage.outbox import OutboxMessage, OutboxRow
from bot.testing import Call, FakeTelegram

T = TypeVar("T")
SENDS = {"sendmessage", "sendphoto", "copymessage"}


class FakeInThread:
    """The fake server on its own event loop, so its work does not slow the sender's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.fake: FakeTelegram | None = None

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def start(self) -> FakeTelegram:
        self.thread.start()

        async def make() -> FakeTelegram:
            return await FakeTelegram().start()

        self.fake = self.call(make())
        return self.fake

    def stop(self) -> None:
        if self.fake is not None:
            self.call(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


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


async def run(args: argparse.Namespace) -> int:
    tmp = tempfile.TemporaryDirectory(prefix="bench-delivery-")
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    db = Database(url)
    await db.upgrade()
    async with db.transaction() as conn:
        if (await outbox.counts(conn))["queued"] or await outbox.has_queued(conn):
            print("the database already has an outbox; use an empty one", file=sys.stderr)
            return 2

    pairs = plan(args.messages)
    messages = await prepare(db, pairs)
    chats = sorted({chat for chat, _ in pairs})
    blocked = set(chats[:: int(1 / args.blocked)] if args.blocked > 0 else [])

    server = FakeInThread()
    fake = server.start()
    fake.set_rate_limits(global_per_second=args.server_rate, per_chat_per_second=1)
    for chat in blocked:
        fake.block(chat)
    bot = fake.make_bot()

    inject_at = {args.messages * (i + 1) // (args.inject_429 + 1) for i in range(args.inject_429)}
    done = 0
    injected = 0

    async def on_outcome(row: OutboxRow, outcome: Outcome) -> None:
        nonlocal done, injected
        if outcome.final:
            done += 1
            if done in inject_at:
                injected += 1
                fake.fail_next("sendMessage", error_code=429, retry_after=1)
            if done % 1000 == 0:
                print(f"  {done} rows finished", file=sys.stderr, flush=True)

    config = SenderConfig(rate=args.rate, max_in_flight=args.in_flight)
    sender = Sender(db, bot, config, on_outcome=on_outcome)
    eta = args.messages / args.rate
    print(
        f"{args.messages} messages to {len(chats)} users ({len(blocked)} blocked), "
        f"rate {args.rate}/s, server limit {args.server_rate}/s; about {eta:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    wall = time.monotonic()
    stats = await sender.run_until_empty()
    wall = time.monotonic() - wall
    await bot.session.close()

    calls: list[Call] = [c for c in fake.calls() if c.method.lower() in SENDS]
    server.stop()
    async with db.transaction() as conn:
        states = await outbox.counts(conn)
    await db.close()
    tmp.cleanup()

    times = sorted(c.timestamp for c in calls)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    ok = [c for c in calls if c.status == 200]
    floods = [c for c in calls if c.status == 429]
    forbidden = [c for c in calls if c.status == 403]
    pause = len(floods) * (1 + config.retry_after_margin)
    delivered = Counter(str(c.params.get("text", "")).split()[-1] for c in ok)
    expected = {m.idempotency_key for m in messages if m.chat_id not in blocked}
    lost = expected - set(delivered)
    duplicated = {k: n for k, n in delivered.items() if n > 1}
    per_chat: dict[int, list[float]] = {}
    for c in ok:
        per_chat.setdefault(int(c.params["chat_id"]), []).append(c.timestamp)
    gaps = [b - a for ts in per_chat.values() for a, b in itertools.pairwise(ts)]
    rate = (len(calls) - 1) / span
    ratio = rate / args.rate

    print(f"database:            {db.dialect}, in flight: {args.in_flight}")
    print(f"messages queued:     {len(messages)} ({len(expected)} to reachable users)")
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
    print(
        f"lost:                {len(lost)}  duplicated: {len(duplicated)}"
        f"  [target 0 and 0: {'PASS' if not lost and not duplicated else 'FAIL'}]"
    )
    print(f"outbox states:       {states}")
    print(f"sender stats:        {stats}")
    return 0 if ratio >= 0.95 and not lost and not duplicated else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="configured send rate")
    parser.add_argument("--server-rate", type=int, default=30, help="fake server's limit")
    parser.add_argument("--blocked", type=float, default=0.01, help="share of blocked users")
    parser.add_argument("--inject-429", type=int, default=4, help="injected 429 answers")
    parser.add_argument("--in-flight", type=int, default=1, help="SenderConfig.max_in_flight")
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite)")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
