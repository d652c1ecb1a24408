"""The worker pool: calls under a time and memory budget, stuck workers killed and replaced,
the other workers unaffected."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest

from bot.feeds.errors import ParseError
from bot.feeds.workers import MIB, Budget, BudgetExceededError, WorkerDiedError, WorkerPool

from . import worker_jobs as jobs


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(2, Budget(seconds=1.5, memory_bytes=100 * MIB))
    await workers.start()
    yield workers
    await workers.close()


async def replacement_started(pool: WorkerPool, old: set[int]) -> None:
    for _ in range(600):
        if len(pool.pids) == pool.size and not old & set(pool.pids):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no replacement worker: {pool.pids} (old {old})")


async def test_results_and_errors_come_back(pool: WorkerPool) -> None:
    assert await pool.run(jobs.add, 2, 3) == 5
    with pytest.raises(ParseError, match="no items"):
        await pool.run(jobs.fail_parse, "no items")
    with pytest.raises(RuntimeError, match="_Odd: 1/2"):
        await pool.run(jobs.fail_odd)
    assert pool.replaced == 0
    assert os.getpid() not in {await pool.run(jobs.pid) for _ in range(4)}


async def test_a_call_over_the_time_budget_is_killed_and_its_worker_replaced(
    pool: WorkerPool,
) -> None:
    before = set(pool.pids)
    with pytest.raises(BudgetExceededError, match=r"parsing took longer than 1.5 s"):
        await pool.run(jobs.backtrack, 60, what="parsing")  # C code: only a kill stops it
    assert pool.replaced == 1
    survivor = before & set(pool.pids)
    assert len(survivor) == 1  # the other worker was not touched
    await replacement_started(pool, before - survivor)
    assert [await pool.run(jobs.add, 1, 1) for _ in range(3)] == [2, 2, 2]


async def test_a_call_over_the_memory_budget_is_killed(pool: WorkerPool) -> None:
    with pytest.raises(BudgetExceededError, match=r"needed more than 100 MiB"):
        await pool.run(jobs.hog, 1000, what="parsing")
    assert pool.replaced == 1
    assert await pool.run(jobs.hog, 16) == 2  # 16 MB is within the budget


async def test_other_calls_are_not_held_up_by_a_stuck_one(pool: WorkerPool) -> None:
    stuck = asyncio.create_task(pool.run(jobs.backtrack, 60))
    await asyncio.sleep(0.2)
    # While one worker is stuck, the other serves call after call.
    assert [await pool.run(jobs.add, i, i) for i in range(5)] == [0, 2, 4, 6, 8]
    assert not stuck.done()
    with pytest.raises(BudgetExceededError):
        await stuck


async def test_a_worker_that_dies_mid_call_or_while_idle_is_replaced(pool: WorkerPool) -> None:
    with pytest.raises(WorkerDiedError, match="exit code 3"):
        await pool.run(jobs.die)
    killed = pool.pids[0]
    os.kill(killed, signal.SIGKILL)
    await asyncio.sleep(0.2)
    assert {await pool.run(jobs.pid) for _ in range(4)} - {killed}
    await replacement_started(pool, {killed})
    assert pool.replaced == 2


async def test_cancelled_call_does_not_leave_a_busy_worker(pool: WorkerPool) -> None:
    task = asyncio.create_task(pool.run(jobs.nap, 30))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.replaced == 1
    assert await asyncio.wait_for(pool.run(jobs.add, 4, 4), 60) == 8


async def test_closed_pool_kills_its_workers() -> None:
    pool = WorkerPool(1)
    await pool.start()
    [worker_pid] = pool.pids
    busy = asyncio.create_task(pool.run(jobs.nap, 30))
    await asyncio.sleep(0.2)
    await pool.close()
    with pytest.raises(WorkerDiedError):
        await busy
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
