"""Run ``python -m bot.testing serve`` as a child process and drive it.

    async with FakeTelegramProcess(latency=Latency(0.15, 0.05)) as server:
        bot = make_bot(server.base_url)           # or TELEGRAM_API_BASE=server.base_url
        ...
        messages = await server.client.messages()

The server then shares no event loop, no CPU time slice and no memory with the bot(s)
under test, as the real Telegram does not.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from bot.testing.cli import READY_PREFIX
from bot.testing.client import FakeTelegramClient
from bot.testing.flood import RateLimits
from bot.testing.state import DEFAULT_TOKEN
from bot.testing.timing import Latency, LatencyLike, as_latency

__all__ = ["FakeTelegramProcess"]

_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the ``bot`` package


def _latency_arg(latency: Latency) -> str:
    return f"{latency.mean:g}:{latency.jitter:g}"


class FakeTelegramProcess:
    """The fake Telegram server in its own process, with a control client."""

    def __init__(
        self,
        *,
        latency: LatencyLike = 0.0,
        method_latency: Mapping[str, LatencyLike] | None = None,
        rate_limits: RateLimits | None = None,
        token: str = DEFAULT_TOKEN,
        port: int = 0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        self.token = token
        self.args = ["serve", "--port", str(port), "--token", token]
        self.args += ["--latency", _latency_arg(as_latency(latency))]
        for method, value in (method_latency or {}).items():
            self.args += ["--method-latency", f"{method}={_latency_arg(as_latency(value))}"]
        limits = rate_limits or RateLimits()
        for flag, limit in (
            ("--global-rate", limits.global_per_second),
            ("--per-chat-rate", limits.per_chat_per_second),
            ("--per-chat-burst", limits.per_chat_burst),
            ("--group-rate", limits.per_group_per_minute),
            ("--retry-after", limits.retry_after),
        ):
            if limit is not None:
                self.args += [flag, f"{limit:g}"]
        self.args += list(extra_args)
        self.startup_timeout = startup_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._base_url: str | None = None
        self._client: FakeTelegramClient | None = None

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the fake Telegram process is not started")
        return self._base_url

    @property
    def client(self) -> FakeTelegramClient:
        if self._client is None:
            raise RuntimeError("the fake Telegram process is not started")
        return self._client

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the fake Telegram process is not started")
        return self._process.pid

    async def start(self) -> Self:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.testing",
            *self.args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), self.startup_timeout)
        except TimeoutError:
            await self.stop()
            raise RuntimeError(
                f"the fake Telegram process did not start within {self.startup_timeout:g}s"
            ) from None
        text = line.decode().strip()
        if not text.startswith(READY_PREFIX):
            code = await self._process.wait()
            raise RuntimeError(f"the fake Telegram process exited with {code}: {text!r}")
        self._base_url = text.removeprefix(READY_PREFIX)
        self._client = FakeTelegramClient(self._base_url)
        return self

    async def stop(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """SIGTERM, and SIGKILL if it does not exit within ``timeout``; the exit code."""
        if self._client is not None:
            await self._client.close()
        process = self._process
        if process is None:
            return 0
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
        return process.returncode if process.returncode is not None else 0

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
