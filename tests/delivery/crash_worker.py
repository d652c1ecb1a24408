"""A sender process for the crash test: ``python -m tests.delivery.crash_worker API_URL DB_PATH``.

Drains the outbox of the SQLite file through the Bot API server at API_URL, then exits 0.
The test kills it with SIGKILL part-way and runs it again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.delivery import Sender, SenderConfig
from bot.storage.database import Database

TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklmn"


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("api_url")
    parser.add_argument("db_path")
    parser.add_argument("--rate", type=float, default=25.0)
    args = parser.parse_args(argv)
    db = Database(f"sqlite+aiosqlite:///{args.db_path}")
    session = AiohttpSession(api=TelegramAPIServer.from_base(args.api_url))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        stats = await Sender(db, bot, SenderConfig(rate=args.rate)).run_until_empty()
        print(f"sent={stats.sent} requeued={stats.requeued_on_start}", flush=True)
    finally:
        await bot.session.close()
        await db.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
