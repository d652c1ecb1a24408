"""``python -m bot.testing serve``: the fake Telegram server as a process of its own.

    python -m bot.testing serve --port 8081 --latency 0.15:0.05 --telegram-limits

It serves the Bot API at ``http://HOST:PORT/bot<token>/<method>`` (point the bot's
``TELEGRAM_API_BASE`` there) and the control API under ``/fake`` (``bot.testing.client``).
Once listening it prints one line, ``fake-telegram listening on http://HOST:PORT``, to
standard output; SIGTERM or SIGINT stop it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from bot.testing.control import attach_control
from bot.testing.flood import RateLimits
from bot.testing.server import FakeTelegram
from bot.testing.state import DEFAULT_TOKEN
from bot.testing.timing import Latency
from bot.testing.webhook import WebhookRetry

__all__ = ["READY_PREFIX", "main", "parse_args"]

READY_PREFIX = "fake-telegram listening on "


def _method_latency(text: str) -> tuple[str, Latency]:
    method, sep, value = text.partition("=")
    if not sep or not method:
        raise argparse.ArgumentTypeError(f"expected METHOD=SECONDS[:JITTER], got {text!r}")
    try:
        return method, Latency.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _latency(text: str) -> Latency:
    try:
        return Latency.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _retry(text: str) -> WebhookRetry:
    initial, _, maximum = text.partition(":")
    try:
        return WebhookRetry(float(initial), float(maximum or 5.0))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected INITIAL[:MAX], got {text!r}: {error}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.testing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the fake Bot API server with a control API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    serve.add_argument("--token", default=DEFAULT_TOKEN, help="the bot's token")
    serve.add_argument("--only-token", action="store_true", help="401 for any other token")
    serve.add_argument(
        "--latency", type=_latency, default=Latency(), help="SECONDS[:JITTER] for every answer"
    )
    serve.add_argument(
        "--method-latency",
        type=_method_latency,
        action="append",
        default=[],
        metavar="METHOD=SECONDS[:JITTER]",
        help="a method's own latency (repeatable)",
    )
    serve.add_argument(
        "--telegram-limits",
        action="store_true",
        help="Telegram's flood limits: 30/s, 1/s per chat (bursts of 3), 20/min per group",
    )
    serve.add_argument("--global-rate", type=float, help="sends per second per bot")
    serve.add_argument("--per-chat-rate", type=float, help="sends per second per chat")
    serve.add_argument("--per-chat-burst", type=int, help="sends to a chat back to back")
    serve.add_argument("--group-rate", type=int, help="sends per minute per group")
    serve.add_argument("--retry-after", type=int, help="a fixed retry_after in 429 answers")
    serve.add_argument(
        "--known-chats-only",
        action="store_true",
        help="400 chat not found for users not created through the control API",
    )
    serve.add_argument(
        "--webhook-retry", type=_retry, default=WebhookRetry(), metavar="INITIAL[:MAX]"
    )
    serve.add_argument("--seed", type=int, help="seed of the latency jitter")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _parser().parse_args(argv)


def _rate_limits(args: argparse.Namespace) -> RateLimits:
    base = RateLimits.telegram() if args.telegram_limits else RateLimits()
    overrides = {
        "global_per_second": args.global_rate,
        "per_chat_per_second": args.per_chat_rate,
        "per_chat_burst": args.per_chat_burst,
        "per_group_per_minute": args.group_rate,
        "retry_after": args.retry_after,
    }
    values = base.to_json() | {k: v for k, v in overrides.items() if v is not None}
    return RateLimits(**values)


def build(args: argparse.Namespace) -> FakeTelegram:
    fake = FakeTelegram(
        token=args.token,
        accept_any_token=not args.only_token,
        known_chats_only=args.known_chats_only,
        latency=args.latency,
        method_latency=dict(args.method_latency),
        rate_limits=_rate_limits(args),
        webhook_retry=args.webhook_retry,
        seed=args.seed,
        host=args.host,
        port=args.port,
    )
    return attach_control(fake)


async def serve(args: argparse.Namespace) -> None:
    fake = build(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await fake.start()
    try:
        print(f"{READY_PREFIX}{fake.base_url}", flush=True)
        await stop.wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0
