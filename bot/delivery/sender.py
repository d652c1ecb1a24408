"""The sender: takes rows from the outbox and makes the Bot API calls they describe.

Guarantees and how they are kept:

* **Nothing sent twice, except the message in flight at a crash.** A row is committed as
  ``sending`` before its Bot API call and as ``sent`` (or another outcome) after it, and with
  the default ``max_in_flight=1`` the next row is not taken before that commit. At start-up,
  rows left in ``sending`` are re-queued; only that one message can have reached Telegram
  without its ``sent`` being stored. With ``max_in_flight=N`` the bound becomes N messages
  (and N lost commits' worth of duplicates); raise it only when one request per
  round trip cannot reach the configured rate (paid broadcasts, a distant API server).
* **Nothing queued is lost.** Rows leave ``queued`` only through an explicit outcome.
* **Telegram's limits.** A global token bucket (default 25/s, under Telegram's ~30/s), at
  least ``per_chat_interval`` between messages to one chat, and on ``TelegramRetryAfter``
  a pause of *all* sending for ``retry_after`` plus a margin before the row is retried.
* **Failures.** 403 (blocked, deactivated) and 400 "chat not found": the user is marked
  inactive and the chat's queued rows are dropped with the reason. Other 400s fail the row
  (not retried). Network errors and 5xx retry with exponential backoff, a bounded number
  of times, then fail. A timed-out request may still have been delivered: retrying it can
  duplicate it, which is the price of not losing it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import CopyMessage, SendMessage, SendPhoto, TelegramMethod
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.delivery.ratelimit import DEFAULT_LANE, PAID_LANE, RateLimiter
from bot.storage import outbox
from bot.storage import users as users_repo
from bot.storage.database import Database
from bot.storage.outbox import OutboxRow

__all__ = [
    "METHODS",
    "OnOutcome",
    "Outcome",
    "PayloadError",
    "Sender",
    "SenderConfig",
    "SenderStats",
    "Status",
    "Verdict",
    "build_method",
    "classify",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "copyMessage": CopyMessage,
}

# Substrings of 400 descriptions that mean the recipient is gone, like a 403.
_GONE_400 = ("chat not found", "user not found", "peer_id_invalid")


class Status(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"
    RETRY = "retry"  # transient error; the row is queued again with a backoff
    RATE_LIMITED = "rate_limited"  # 429; all sending paused, the row queued again


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    error: str | None = None
    telegram_message_id: int | None = None
    retry_at: datetime | None = None

    @property
    def final(self) -> bool:
        """Whether the row is finished (sent, failed or dropped)."""
        return self.status in (Status.SENT, Status.FAILED, Status.DROPPED)


OnOutcome = Callable[[OutboxRow, Outcome], Awaitable[None]]


@dataclass(slots=True)
class SenderStats:
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # including the chat's other queued rows dropped along
    retried: int = 0
    rate_limited: int = 0  # 429 answers received
    requeued_on_start: int = 0


@dataclass(frozen=True, slots=True)
class SenderConfig:
    rate: float = 25.0  # messages per second, all chats together
    allow_paid_broadcast: bool = False
    paid_broadcast_rate: float = 500.0
    # Telegram: one message per second per chat. The margin absorbs the jitter between
    # our send times and the server's arrival times, which would otherwise cost a 429.
    per_chat_interval: float = 1.05
    burst: float | None = None  # token bucket capacity; None: max(1, rate / 10)
    retry_after_margin: float = 0.5  # added to Telegram's retry_after
    max_attempts: int = 5  # transient failures before a row fails for good
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    unauthorized_pause: float = 60.0  # a revoked token: keep rows queued, check now and then
    request_timeout: int = 30
    batch_size: int = 100
    batch_max_age: float = 5.0  # re-read the queue this often, for new urgent rows
    poll_interval: float = 0.5  # idle polling when nobody calls wake()
    max_in_flight: int = 1  # see the module docstring before raising it
    requeue_on_start: bool = True
    db_retries: int = 5

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SenderConfig:
        values: dict[str, Any] = {
            "rate": settings.send_rate,
            "allow_paid_broadcast": settings.allow_paid_broadcast,
            "paid_broadcast_rate": settings.paid_broadcast_rate,
        }
        return cls(**(values | overrides))


class PayloadError(ValueError):
    """The row's payload does not describe a valid Bot API call."""


def build_method(row: OutboxRow, *, paid: bool = False) -> TelegramMethod[Any]:
    """The aiogram method object for a row; ``chat_id`` comes from the row."""
    params = dict(row.payload)
    name = params.pop("method", "sendMessage")
    cls = METHODS.get(name)
    if cls is None:
        raise PayloadError(f"unsupported method {name!r}; expected one of {sorted(METHODS)}")
    params.pop("chat_id", None)
    # aiogram methods accept unknown fields silently; a typo would vanish, so refuse it.
    unknown = set(params) - set(cls.model_fields)
    if unknown:
        raise PayloadError(f"unknown {name} parameters: {sorted(unknown)}")
    if paid:
        params["allow_paid_broadcast"] = True
    try:
        return cls.model_validate({"chat_id": row.chat_id, **params})
    except ValidationError as exc:
        raise PayloadError(f"invalid {name} payload: {exc}") from exc


Action = Literal["rate_limited", "drop", "fail", "retry", "halt"]


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    error: str
    reason: str | None = None  # why the user is inactive (drop)
    retry_after: float = 0.0  # rate_limited


def _describe(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, TelegramAPIError) else str(exc)
    return f"{type(exc).__name__}: {text}"[:1000]


def classify(exc: BaseException) -> Verdict:
    """What to do with a row whose Bot API call raised ``exc``."""
    error = _describe(exc)
    if isinstance(exc, TelegramRetryAfter):
        return Verdict("rate_limited", error, retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        text = exc.message.lower()
        reason = next((r for r in ("blocked", "deactivated", "kicked") if r in text), "forbidden")
        return Verdict("drop", error, reason=reason)
    if isinstance(exc, TelegramBadRequest) and any(m in exc.message.lower() for m in _GONE_400):
        return Verdict("drop", error, reason="chat_not_found")
    if isinstance(exc, TelegramUnauthorizedError):
        return Verdict("halt", error)
    if isinstance(
        exc,
        TelegramBadRequest
        | TelegramNotFound
        | TelegramConflictError
        | TelegramMigrateToChat
        | TelegramEntityTooLarge,  # a TelegramNetworkError subclass, but not transient
    ):
        return Verdict("fail", error)
    if isinstance(exc, TelegramNetworkError | TelegramServerError | ClientDecodeError):
        return Verdict("retry", error)
    # Unknown status codes, OSError, timeouts, bugs: retry a bounded number of times.
    return Verdict("retry", error)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Batch:
    rows: list[OutboxRow] = field(default_factory=list)
    read_at: float = -math.inf
    more: bool = False  # the last read was full: the queue may hold more ready rows


class Sender:
    """Delivers outbox rows through an aiogram ``Bot`` within Telegram's limits.

    ``run()`` loops until ``stop()``; ``run_until_empty()`` (alias ``drain()``) returns
    once nothing is queued. Enqueuers call ``wake()`` so new rows go out without waiting
    for the next poll. ``on_outcome`` is awaited after every attempt's outcome (check
    ``outcome.final``); keep it quick (throttle progress-message edits), because with
    one message in flight the next send waits for it.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        config: SenderConfig | None = None,
        *,
        on_outcome: OnOutcome | None = None,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = _utcnow,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.config = config or SenderConfig()
        self.on_outcome = on_outcome
        cfg = self.config
        self.limiter = limiter or RateLimiter(
            cfg.rate,
            per_chat_interval=cfg.per_chat_interval,
            burst=cfg.burst,
            lanes={PAID_LANE: cfg.paid_broadcast_rate} if cfg.allow_paid_broadcast else None,
            clock=clock,
            sleep=sleep,
        )
        self._now = now
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.stats = SenderStats()
        self._wake_event = asyncio.Event()
        self._slots = asyncio.Semaphore(cfg.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._task_error: BaseException | None = None
        self._stopping = False
        self._refresh = True
        self._running = False
        self._prepared = False

    # -- control ---------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were enqueued: look at the queue now."""
        self._refresh = True
        self._wake_event.set()

    def stop(self) -> None:
        """Finish the message in flight and return from ``run()``."""
        self._stopping = True
        self._wake_event.set()

    @property
    def running(self) -> bool:
        return self._running

    async def prepare(self) -> int:
        """Re-queue rows a dead process left in ``sending`` (once per sender); returns how
        many. Called by ``run()``; only safe while no other sender uses the database."""
        if self._prepared or not self.config.requeue_on_start:
            return 0
        self._prepared = True
        n = await self._write(outbox.requeue_in_flight)
        if n:
            log.warning("re-queued %d outbox rows left in flight by a previous run", n)
        self.stats.requeued_on_start += n
        return n

    async def run(self) -> None:
        """Send until ``stop()`` is called."""
        await self._loop(until_empty=False)

    async def run_until_empty(self) -> SenderStats:
        """Send until no row is queued (waiting for delayed ones), then return the stats."""
        await self._loop(until_empty=True)
        return self.stats

    drain = run_until_empty

    # -- main loop -------------------------------------------------------------------------

    async def _loop(self, *, until_empty: bool) -> None:
        if self._running:
            raise RuntimeError("this sender is already running")
        self._running = True
        self._stopping = False
        batch = _Batch()
        try:
            await self.prepare()
            while not self._stopping:
                if self._task_error is not None:
                    raise self._task_error
                await self._slots.acquire()
                spawned = False
                try:
                    spawned, done = await self._step(batch, until_empty)
                finally:
                    if not spawned:
                        self._slots.release()
                if done:
                    break
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            self._running = False
        if self._task_error is not None:
            error, self._task_error = self._task_error, None
            raise error

    async def _step(self, batch: _Batch, until_empty: bool) -> tuple[bool, bool]:
        """One scheduling step while holding a slot; returns (spawned a send, finished)."""
        cfg = self.config
        if self._refresh or not batch.rows or self._clock() - batch.read_at >= cfg.batch_max_age:
            self._refresh = False
            batch.rows, batch.more = await self._claim(set())
            batch.read_at = self._clock()
            if not batch.rows:
                if self._tasks:  # an in-flight send may still re-queue its row
                    await asyncio.wait(set(self._tasks))
                    self._refresh = True
                    return False, False
                next_at = await self._read(outbox.next_ready_at)
                if next_at is None:
                    if until_empty:
                        return False, True
                    await self._idle(cfg.poll_interval)
                else:
                    due_in = (next_at - self._now()).total_seconds()
                    if due_in <= 0:
                        # Due rows exist but all belong to chats inside their interval.
                        due_in = self.limiter.next_chat_free_in()
                    await self._idle(max(0.005, min(cfg.poll_interval, due_in)))
                return False, False
        row, wait = self._pick(batch.rows)
        if row is None and batch.more:
            # Everything in hand waits for its chat (the later parts of digests): top up
            # with other chats' rows instead of idling.
            extra, batch.more = await self._claim({r.chat_id for r in batch.rows})
            if extra:
                batch.rows = sorted(batch.rows + extra, key=lambda r: (-r.priority, r.id))
                row, wait = self._pick(batch.rows)
        if row is None:
            await self._idle(wait)
            return False, False
        lane = self._lane(row)
        if not await self._wait_turn(row.chat_id, lane):
            return False, True
        if not await self._write(lambda c: outbox.mark_sending(c, row.id)):
            return False, False  # dropped or taken by another worker meanwhile
        self.limiter.take(row.chat_id, lane)
        task = asyncio.create_task(self._deliver(row, lane), name=f"outbox-{row.id}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return True, False

    async def _claim(self, exclude: set[int]) -> tuple[list[OutboxRow], bool]:
        """Ready rows except those of ``exclude`` and of busy chats; and whether the queue
        may hold more ready rows than were read (a full read, or busy chats skipped)."""
        # Chats that cannot receive before the current flood pause ends are not worth
        # reading; a chat that only waits for the pause (the 429'd row) is.
        busy = self.limiter.busy_chats(beyond=self.limiter.pause_delay())
        limit = self.config.batch_size
        rows = await self._read(
            lambda c: outbox.claim_ready(c, self._now(), limit, exclude_chats=exclude | busy)
        )
        return rows, len(rows) == limit or bool(busy)

    def _pick(self, rows: list[OutboxRow]) -> tuple[OutboxRow | None, float]:
        """The first row whose chat may receive now; rows of one chat keep their order."""
        seen: set[int] = set()
        wait = math.inf
        # During a flood pause every chat waits anyway: a chat ready by its end counts as
        # ready, so the row that met the 429 goes first again.
        pause = self.limiter.pause_delay()
        for i, row in enumerate(rows):
            if row.chat_id in seen:
                continue
            seen.add(row.chat_id)
            delay = self.limiter.chat_delay(row.chat_id) - pause
            if delay <= 0:
                return rows.pop(i), 0.0
            wait = min(wait, delay)
        return None, wait

    def _lane(self, row: OutboxRow) -> str:
        if self.config.allow_paid_broadcast and (
            row.kind == "broadcast" or row.broadcast_id is not None
        ):
            return PAID_LANE
        return DEFAULT_LANE

    async def _wait_turn(self, chat_id: int, lane: str) -> bool:
        """Wait for the rate limits; False if stopped meanwhile."""
        while (delay := self.limiter.delay(chat_id, lane)) > 0:
            if self._stopping:
                return False
            if delay > 0.25:  # a flood pause: stay responsive to stop()
                await self._idle(delay)
            else:
                await self._sleep(delay)
        return not self._stopping

    async def _idle(self, seconds: float) -> None:
        """Sleep up to ``seconds``, or until wake()/stop()."""
        if self._wake_event.is_set() or seconds <= 0:
            self._wake_event.clear()
            await asyncio.sleep(0)
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waiter = asyncio.ensure_future(self._wake_event.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (sleeper, waiter):
                fut.cancel()
            await asyncio.gather(sleeper, waiter, return_exceptions=True)
        self._wake_event.clear()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("outbox delivery task failed", exc_info=exc)
            self._task_error = self._task_error or exc
            self._stopping = True
            self._wake_event.set()

    # -- one message -----------------------------------------------------------------------

    async def _deliver(self, row: OutboxRow, lane: str) -> None:
        try:
            outcome, dropped = await self._attempt(row, lane)
            await self._notify(row, outcome)
            for other in dropped:
                await self._notify(other, Outcome(Status.DROPPED, error=other.last_error))
        finally:
            self._slots.release()

    async def _attempt(self, row: OutboxRow, lane: str) -> tuple[Outcome, list[OutboxRow]]:
        try:
            method = build_method(row, paid=lane == PAID_LANE)
        except PayloadError as exc:
            return await self._fail(row, str(exc)), []
        try:
            result = await self.bot(method, request_timeout=self.config.request_timeout)
        except Exception as exc:  # every failure is classified; cancellation propagates
            return await self._handle_error(row, exc)
        message_id = getattr(result, "message_id", None)
        mid = message_id if isinstance(message_id, int) else None
        await self._write(lambda c: outbox.mark_sent(c, row.id, mid, self._now()))
        self.stats.sent += 1
        return Outcome(Status.SENT, telegram_message_id=mid), []

    async def _handle_error(
        self, row: OutboxRow, exc: Exception
    ) -> tuple[Outcome, list[OutboxRow]]:
        verdict = classify(exc)
        now = self._now()
        if verdict.action == "rate_limited":
            pause = verdict.retry_after + self.config.retry_after_margin
            self.limiter.pause(pause)
            self._refresh = True  # re-read the queue after the pause: this row goes first
            self.stats.rate_limited += 1
            log.warning("429 on outbox row %d: pausing all sending for %.1f s", row.id, pause)
            await self._write(
                lambda c: outbox.retry_later(
                    c, row.id, now, verdict.error, count_attempt=False, hold_chat=False
                )
            )
            return Outcome(Status.RATE_LIMITED, verdict.error, retry_at=now), []
        if verdict.action == "drop":
            reason = verdict.reason or "forbidden"
            text = f"{reason}: {verdict.error}"
            dropped = await self._write(lambda c: self._drop_chat(c, row, reason, text, now))
            self.stats.dropped += 1 + len(dropped)
            log.info("chat %s is gone (%s); dropped %d more rows", row.chat_id, text, len(dropped))
            return Outcome(Status.DROPPED, text), dropped
        if verdict.action == "fail":
            return await self._fail(row, verdict.error), []
        if verdict.action == "halt":
            log.error("Telegram refuses the bot token (%s); pausing sending", verdict.error)
            self.limiter.pause(self.config.unauthorized_pause)
            self._refresh = True
            await self._write(
                lambda c: outbox.retry_later(
                    c, row.id, now, verdict.error, count_attempt=False, hold_chat=False
                )
            )
            return Outcome(Status.RETRY, verdict.error, retry_at=now), []
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            return await self._fail(row, f"gave up after {attempts} attempts: {verdict.error}"), []
        retry_at = now + timedelta(seconds=self._backoff(attempts))
        self._refresh = True  # the chat's later rows were held back too
        self.stats.retried += 1
        log.info("outbox row %d: %s; retry at %s", row.id, verdict.error, retry_at)
        await self._write(lambda c: outbox.retry_later(c, row.id, retry_at, verdict.error))
        return Outcome(Status.RETRY, verdict.error, retry_at=retry_at), []

    async def _drop_chat(
        self, conn: AsyncConnection, row: OutboxRow, reason: str, text: str, now: datetime
    ) -> list[OutboxRow]:
        await outbox.mark_dropped(conn, row.id, text)
        if row.user_id is not None:
            await users_repo.mark_inactive(conn, row.user_id, reason, now)
        return await outbox.drop_queued_for_chat(conn, row.chat_id, text)

    async def _fail(self, row: OutboxRow, error: str) -> Outcome:
        await self._write(lambda c: outbox.mark_failed(c, row.id, error))
        self.stats.failed += 1
        log.warning("outbox row %d failed: %s", row.id, error)
        return Outcome(Status.FAILED, error)

    def _backoff(self, attempts: int) -> float:
        base = min(self.config.backoff_max, self.config.backoff_base * 2.0 ** (attempts - 1))
        return base * self._rng.uniform(0.8, 1.2)  # jitter: don't retry in lockstep

    async def _notify(self, row: OutboxRow, outcome: Outcome) -> None:
        if self.on_outcome is None:
            return
        try:
            await self.on_outcome(row, outcome)
        except Exception:
            log.exception("outbox on_outcome callback failed for row %d", row.id)

    # -- database --------------------------------------------------------------------------

    async def _read(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await self._write(fn)

    async def _write(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``fn`` in its own committed transaction, retrying transient database errors
        (a lost "sent" would mean a duplicate after the next restart)."""
        for attempt in range(1, self.config.db_retries + 1):
            try:
                async with self.db.transaction() as conn:
                    return await fn(conn)
            except (OperationalError, InterfaceError):
                if attempt == self.config.db_retries:
                    raise
                log.warning("outbox database error, retrying", exc_info=True)
                await self._sleep(0.5 * attempt)
        raise AssertionError("unreachable")
