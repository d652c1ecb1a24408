"""The log of digests queued for users (what period each covered, how big it was)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import schema as s

__all__ = ["SentDigest", "record"]


@dataclass(frozen=True, slots=True)
class SentDigest:
    user_id: int
    kind: str  # daily | weekly | instant
    period_start: datetime
    period_end: datetime
    story_count: int
    part_count: int
    created_at: datetime


async def record(conn: AsyncConnection, digests: Sequence[SentDigest]) -> None:
    if digests:
        await conn.execute(insert(s.digests), [asdict(d) for d in digests])
