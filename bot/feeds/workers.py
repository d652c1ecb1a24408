"""Worker processes for CPU work on untrusted input, each call under a time and memory budget.

Feed parsing (feedparser) and understanding run in these workers, not in the bot process. A
call that runs longer than its time budget, or whose worker grows by more than its memory
budget, is stopped the only way that also stops C code and runaway regexes: its worker is
killed, the call fails with :class:`BudgetExceededError`, and a fresh worker takes its place.
With more than one worker the other feeds go on meanwhile.

Memory is watched from this side by sampling the worker's resident size (``/proc``, Linux);
elsewhere only the time budget applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.context
import os
import pickle
import signal
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Final, Protocol, TypeVar

from bot.feeds.errors import ParseError

__all__ = [
    "Budget",
    "BudgetExceededError",
    "CpuRunner",
    "ExecutorRunner",
    "WorkerDiedError",
    "WorkerPool",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
MIB: Final = 1024 * 1024
_SAMPLE_SECONDS: Final = 0.05  # how often a busy worker's memory is looked at
_RESTART_DELAY: Final = 5.0  # after a replacement failed to start


@dataclass(frozen=True, slots=True)
class Budget:
    """What one call may use: wall-clock seconds, and bytes of growth of its worker."""

    seconds: float = 20.0
    memory_bytes: int = 512 * MIB


class BudgetExceededError(ParseError):
    """A call ran out of time or memory; its worker was killed and replaced."""


class WorkerDiedError(ParseError):
    """The worker process ended in the middle of a call (crash, killed from outside)."""


class CpuRunner(Protocol):
    """Runs a picklable function with its arguments somewhere off the event loop."""

    async def run(self, fn: Callable[..., T], /, *args: Any, what: str = "the work") -> T: ...


class ExecutorRunner:
    """A :class:`CpuRunner` over a ``concurrent.futures`` executor (None: the default thread
    pool). No budget: threads cannot be stopped."""

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor

    async def run(self, fn: Callable[..., T], /, *args: Any, what: str = "the work") -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


# --- the worker side -----------------------------------------------------------------------


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _worker_main(conn: Connection, initializer: Callable[[], object] | None) -> None:
    """Loop of one worker: receive (fn, args), answer ("ok", result) or ("error", exc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the parent; it stops us
    if initializer is not None:
        try:
            initializer()
        except Exception:
            log.exception("worker initializer failed; the worker serves anyway")
    try:
        conn.send(("ready", os.getpid()))
    except OSError:  # the pool closed while we started
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        fatal = False
        try:
            reply: tuple[str, object] = ("ok", fn(*args))
        except MemoryError:
            fatal = True  # the heap may be in any state: let the parent replace us
            reply = ("error", BudgetExceededError("ran out of memory"))
        except BaseException as exc:
            reply = ("error", _portable(exc))
        try:
            try:
                conn.send(reply)
            except OSError:
                raise
            except Exception as exc:  # an unpicklable result
                conn.send(("error", RuntimeError(f"cannot return the result: {exc}")))
        except OSError:  # the parent is gone or gave up on this call
            return
        if fatal:
            return


# --- the parent side -----------------------------------------------------------------------


def _resident_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _Worker:
    def __init__(
        self, ctx: multiprocessing.context.SpawnContext, initializer: Callable[[], object] | None
    ) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self._child: Connection | None = child
        self.process = ctx.Process(
            target=_worker_main, args=(child, initializer), daemon=True, name="newsbot-worker"
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid

    async def start(self, within: float) -> None:
        starting = asyncio.ensure_future(asyncio.to_thread(self.process.start))
        try:
            await asyncio.shield(starting)
        except asyncio.CancelledError:
            await starting  # let it finish, so that kill() can stop the process
            raise
        if self._child is not None:
            self._child.close()  # ours is only the parent end
            self._child = None
        try:
            async with asyncio.timeout(within):
                await self._readable()
        except TimeoutError:
            raise WorkerDiedError(f"the worker did not start within {within:g} s") from None
        try:
            status, _ = await asyncio.to_thread(self.conn.recv)
        except (EOFError, OSError):
            raise WorkerDiedError(f"the worker exited at start ({self.exit_text()})") from None
        if status != "ready":
            raise WorkerDiedError(f"the worker said {status!r} instead of ready")

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        fd = self.conn.fileno()
        loop.add_reader(fd, ready.set)
        try:
            await ready.wait()
        finally:
            loop.remove_reader(fd)

    def exit_text(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    async def call(
        self, fn: Callable[..., object], args: tuple[Any, ...], budget: Budget, what: str
    ) -> tuple[str, Any]:
        """Send one call and wait for its answer within ``budget``."""
        try:
            await asyncio.to_thread(self.conn.send, (fn, args))
        except (OSError, ValueError) as exc:
            raise WorkerDiedError(f"{what}: the worker is gone ({exc})") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget.seconds
        pid = self.pid or 0
        baseline = _resident_bytes(pid)
        ready = asyncio.Event()
        fd = self.conn.fileno()
        loop.add_reader(fd, ready.set)
        try:
            while not ready.is_set():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise BudgetExceededError(
                        f"{what} took longer than {budget.seconds:g} s (time budget)"
                    )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(remaining, _SAMPLE_SECONDS)):
                        await ready.wait()
                resident = _resident_bytes(pid)
                grown = resident - baseline if resident is not None and baseline else 0
                if grown > budget.memory_bytes:
                    raise BudgetExceededError(
                        f"{what} needed more than {budget.memory_bytes // MIB} MiB "
                        "(memory budget)"
                    )
        finally:
            loop.remove_reader(fd)
        try:
            status, value = await asyncio.to_thread(self.conn.recv)
        except (EOFError, OSError):
            await asyncio.to_thread(self.process.join, 5)
            raise WorkerDiedError(f"{what}: the worker died ({self.exit_text()})") from None
        return status, value

    async def kill(self) -> None:
        """Stop the process (idempotent); a call waiting on it fails with WorkerDiedError."""
        if self.process.pid is not None and self.process.exitcode is None:
            self.process.kill()
            await asyncio.to_thread(self.process.join, 10)
        self.conn.close()
        if self._child is not None:
            self._child.close()
            self._child = None


class WorkerPool:
    """``size`` worker processes (spawned, so nothing of the bot's state is inherited) that
    run picklable functions under a :class:`Budget`.

    ``initializer`` runs once in every worker before it takes calls (outside any budget): load
    what the calls need, so that a replacement worker is ready for a full budget too.
    """

    def __init__(
        self,
        size: int = 2,
        budget: Budget | None = None,
        *,
        initializer: Callable[[], object] | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self.budget = budget or Budget()
        self._initializer = initializer
        self._start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._restarts: set[asyncio.Task[None]] = set()
        self._start_lock = asyncio.Lock()
        self._started = False
        self._closed = False
        self.replaced = 0  # workers killed for their budget or found dead

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def pids(self) -> list[int]:
        return sorted(w.pid for w in self._workers if w.pid is not None)

    async def start(self) -> None:
        """Start the workers and wait until each has run the initializer (idempotent)."""
        async with self._start_lock:
            if self._started:
                return
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            spawned = await asyncio.gather(
                *(self._spawn() for _ in range(self.size)), return_exceptions=True
            )
            workers = [w for w in spawned if isinstance(w, _Worker)]
            failed = [e for e in spawned if isinstance(e, BaseException)]
            if failed:
                await asyncio.gather(*(w.kill() for w in workers))
                self._workers.clear()
                raise failed[0]
            self._started = True
            for worker in workers:
                self._idle.put_nowait(worker)

    async def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self._initializer)
        self._workers.add(worker)
        try:
            await worker.start(self._start_timeout)
        except BaseException:
            self._workers.discard(worker)
            await worker.kill()
            raise
        return worker

    async def run(self, fn: Callable[..., T], /, *args: Any, what: str = "the work") -> T:
        """``fn(*args)`` in a worker. Raises what ``fn`` raised, :class:`BudgetExceededError`
        or :class:`WorkerDiedError`; ``what`` names the work in those errors' messages."""
        await self.start()
        worker = await self._idle.get()
        while worker.process.exitcode is not None:  # died while idle (OOM killer, kill -9)
            log.warning("worker %s had died (%s)", worker.pid, worker.exit_text())
            self._replace(worker)
            worker = await self._idle.get()
        try:
            status, value = await worker.call(fn, args, self.budget, what)
        except BaseException as exc:  # over budget, dead, or cancelled mid-call
            if isinstance(exc, BudgetExceededError):
                log.warning("worker %s stopped: %s", worker.pid, exc)
            self._replace(worker)
            raise
        if isinstance(value, BudgetExceededError):  # MemoryError inside: the worker exits
            self._replace(worker)
            raise BudgetExceededError(f"{what} {value}") from None
        self._idle.put_nowait(worker)
        if status == "error":
            assert isinstance(value, BaseException)
            raise value
        return value  # type: ignore[no-any-return]

    def _replace(self, worker: _Worker) -> None:
        self.replaced += 1
        self._workers.discard(worker)
        task = asyncio.create_task(self._restart(worker), name="worker-restart")
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)

    def is_closed(self) -> bool:
        return self._closed

    async def _restart(self, dead: _Worker) -> None:
        await dead.kill()
        while not self.is_closed():
            try:
                worker = await self._spawn()
            except Exception:
                log.exception("cannot start a replacement worker; retrying")
                await asyncio.sleep(_RESTART_DELAY)
                continue
            if self.is_closed():
                await worker.kill()
            else:
                self._idle.put_nowait(worker)
            return

    async def close(self) -> None:
        """Stop every worker (busy ones are killed: the calls fail)."""
        self._closed = True
        for task in list(self._restarts):
            task.cancel()
        for task in list(self._restarts):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        workers, self._workers = list(self._workers), set()
        await asyncio.gather(*(w.kill() for w in workers))
