"""The bot token never reaches the log, whatever library writes it (issue 15): aiogram quotes
the request URL ``/bot<TOKEN>/getUpdates`` when Telegram's side answers garbage."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import socket
import struct
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.backoff import BackoffConfig

from bot.logs import REDACTED, SecretFilter, setup_logging

TOKEN = "123456789:AAEsecretSECRETsecretSECRETsecret12"
SECRET = TOKEN.split(":", 1)[1]
OTHER_TOKEN = "987654321:AAFanotherTOKENanotherTOKENanother9"
ME = {"id": 123456789, "is_bot": True, "first_name": "News", "username": "news_bot"}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {h: list(h.filters) for h in handlers}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler, kept in filters.items():
        handler.filters = kept
    root.setLevel(level)
    logging.captureWarnings(False)


def test_filter_cleans_message_arguments_exception_and_stack(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("DEBUG", secrets=[TOKEN], stream=out)
    log = logging.getLogger("some.library.deep.inside")
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    log.error("Failed to fetch updates - %s", RuntimeError(f"url='{url}'"))
    log.warning("quoted %s", url.replace(":", "%3A"))
    log.info("secret half alone: %s", SECRET)
    log.info("another bot: %s", OTHER_TOKEN)
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        log.exception("request failed")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None, sinfo=TOKEN)
    logging.getLogger("x").handle(record)
    text = out.getvalue()
    assert SECRET not in text and OTHER_TOKEN.split(":")[1] not in text
    assert f"/bot{REDACTED}/getUpdates" in text
    assert "ConnectionError: cannot reach" in text and "Traceback" in text  # still useful
    assert text.count(REDACTED) == 6


def test_filter_is_on_every_root_handler(restore_logging: None) -> None:
    mine = io.StringIO()
    other = logging.StreamHandler(mine)
    logging.getLogger().addHandler(other)  # e.g. one a library or a test harness added
    setup_logging("INFO", secrets=[TOKEN], stream=io.StringIO())
    logging.getLogger("aiogram.dispatcher").error("url %s", TOKEN)
    assert any(isinstance(f, SecretFilter) for f in other.filters)
    assert SECRET not in mine.getvalue() and REDACTED in mine.getvalue()


# --- a Telegram outage at DEBUG level ------------------------------------------------------

FAULTS = ("garbage", "drop", "reset", "bad_gateway", "short_body", "garbage")


class OutageServer:
    """A Bot API that answers getMe and similar calls, then fails getUpdates in every way a
    broken network or proxy does; ``refuse()`` closes it (connection refused)."""

    def __init__(self) -> None:
        self.faults = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @staticmethod
    def _json(payload: object) -> bytes:
        body = json.dumps(payload).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        line = head.split(b"\r\n", 1)[0]
        if b"/getUpdates" not in line:
            result: object = ME if b"/getMe" in line else True
            writer.write(self._json({"ok": True, "result": result}))
        else:
            fault = FAULTS[self.faults % len(FAULTS)]
            self.faults += 1
            if fault == "garbage":  # a broken proxy: aiohttp's error quotes the URL
                writer.write(b"garbage\r\n\r\n")
            elif fault == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif fault == "bad_gateway":
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad")
            elif fault == "short_body":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\":")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()


@pytest.fixture
async def outage() -> AsyncIterator[OutageServer]:
    server = OutageServer()
    await server.start()
    yield server
    if server.server is not None and server.server.is_serving():
        await server.refuse()


async def test_no_token_in_the_log_during_a_telegram_outage_at_debug(
    restore_logging: None, outage: OutageServer
) -> None:
    out = io.StringIO()
    setup_logging("DEBUG", secrets=[TOKEN], stream=out)
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{outage.port}")),
    )
    dp = Dispatcher()
    fast = BackoffConfig(min_delay=0.05, max_delay=0.2, factor=1.2, jitter=0.0)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, backoff_config=fast)
    )
    try:
        for _ in range(400):
            if outage.faults >= len(FAULTS):
                break
            await asyncio.sleep(0.05)
        await outage.refuse()  # now Telegram refuses connections
        await asyncio.sleep(1.0)
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
        await bot.session.close()
    text = out.getvalue()
    assert outage.faults >= len(FAULTS)
    assert text.count("Failed to fetch updates") >= len(FAULTS)  # the outage was logged
    assert f"/bot{REDACTED}/getUpdates" in text  # where the token was, in aiogram's words
    assert SECRET not in text and TOKEN not in text


@pytest.mark.slow
async def test_newsbot_run_keeps_the_token_out_of_its_log(
    tmp_path: Path, outage: OutageServer
) -> None:
    (tmp_path / "feeds.toml").write_text("")
    env = os.environ | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": f"http://127.0.0.1:{outage.port}",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
        "FEEDS_FILE": str(tmp_path / "feeds.toml"),
        "LOG_LEVEL": "DEBUG",
        "PARSE_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run",
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[bytes] = []
    try:
        async with asyncio.timeout(120):
            while sum(b"Failed to fetch updates" in line for line in lines) < 2:
                line = await process.stderr.readline()
                assert line, b"".join(lines[-40:]).decode()
                lines.append(line)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(
            asyncio.gather(process.stderr.read(), process.wait()), timeout=60
        )
    text = (b"".join(lines) + rest).decode()
    assert f"/bot{REDACTED}/getUpdates" in text
    assert SECRET not in text
