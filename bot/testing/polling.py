"""Run a real aiogram Dispatcher in the background of a test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher

__all__ = ["PollingError", "PollingHandle", "run_polling"]


class PollingError(RuntimeError):
    """The dispatcher failed to start, or a handler raised while the test ran."""


@dataclass(frozen=True, slots=True)
class PollingHandle:
    """What ``run_polling`` yields: the polling task and handler errors seen so far."""

    task: asyncio.Task[None]
    errors: list[BaseException]


class _ErrorCollector(logging.Handler):
    """aiogram logs handler exceptions instead of raising them; collect them for the test."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


@contextlib.asynccontextmanager
async def run_polling(
    dp: Dispatcher,
    bot: Bot,
    *,
    polling_timeout: int = 1,
    startup_timeout: float = 5.0,
    stop_timeout: float = 10.0,
    close_bot_session: bool = True,
    raise_handler_errors: bool = True,
    **workflow_data: Any,
) -> AsyncIterator[PollingHandle]:
    """``async with run_polling(dp, bot, db=db):`` runs ``dp.start_polling`` in a task.

    Yields once the dispatcher's startup hooks have run, and on exit stops polling
    gracefully (``dp.stop_polling()``; cancelling instead leaves aiogram half-stopped).
    With ``raise_handler_errors`` exceptions that handlers raised during the block are
    re-raised as PollingError at exit (or attached as notes to the block's own error),
    because aiogram only logs them and a test would otherwise just time out.
    """
    started = asyncio.Event()

    async def _mark_started() -> None:
        started.set()

    dp.startup.register(_mark_started)
    collector = _ErrorCollector()
    event_logger = logging.getLogger("aiogram.event")
    event_logger.addHandler(collector)
    task: asyncio.Task[None] = asyncio.create_task(
        dp.start_polling(
            bot,
            handle_signals=False,
            polling_timeout=polling_timeout,
            close_bot_session=close_bot_session,
            **workflow_data,
        ),
        name="aiogram-polling",
    )
    try:
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait(
            {task, waiter}, timeout=startup_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if task in done:
                # Surface the startup failure itself (e.g. an on_startup hook raising).
                task.result()
                raise PollingError("polling stopped before the dispatcher started")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise PollingError(f"dispatcher did not start within {startup_timeout}s")

        body_error: BaseException | None = None
        try:
            yield PollingHandle(task, collector.errors)
        except BaseException as exc:
            body_error = exc
            raise
        finally:
            if not task.done():
                await asyncio.wait_for(dp.stop_polling(), stop_timeout)
            await asyncio.wait_for(task, stop_timeout)
            if raise_handler_errors and collector.errors:
                if body_error is not None:
                    for handler_error in collector.errors:
                        body_error.add_note(f"bot handler raised: {handler_error!r}")
                else:
                    raise PollingError(
                        f"{len(collector.errors)} handler error(s) while polling: "
                        f"{collector.errors!r}"
                    ) from collector.errors[0]
    finally:
        event_logger.removeHandler(collector)
        dp.startup.handlers[:] = [h for h in dp.startup.handlers if h.callback is not _mark_started]
