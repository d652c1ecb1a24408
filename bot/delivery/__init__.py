"""Delivery of outbox rows to Telegram within its rate limits (see :mod:`.sender`)."""

from bot.delivery.ratelimit import DEFAULT_LANE, PAID_LANE, RateLimiter
from bot.delivery.sender import (
    OnOutcome,
    Outcome,
    PayloadError,
    Sender,
    SenderConfig,
    SenderStats,
    Status,
    build_method,
    classify,
)

__all__ = [
    "DEFAULT_LANE",
    "PAID_LANE",
    "OnOutcome",
    "Outcome",
    "PayloadError",
    "RateLimiter",
    "Sender",
    "SenderConfig",
    "SenderStats",
    "Status",
    "build_method",
    "classify",
]
