"""Broadcasts: admin announcements queued through the outbox like digests, to an audience
(everyone, okrugs, districts, a language or a topic), now or at a set time.

The admin's dialog lives in ``handlers/admin/broadcast.py``; progress messages and the final
report in :mod:`bot.services.broadcast_progress`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.methods import CopyMessage, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import Message, MessageId

from bot.clock import Clock
from bot.i18n import translator
from bot.services.broadcast_progress import progress_text, update_broadcast_progress
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage.admin import PRIORITY_NORMAL, PRIORITY_URGENT, Audience, Broadcast
from digests.region import Region

__all__ = [
    "Audience",
    "Broadcast",
    "BroadcastService",
    "payload_method",
    "send_preview",
]

_METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "copyMessage": CopyMessage,
}


def payload_method(payload: Mapping[str, Any], chat_id: int) -> TelegramMethod[Any]:
    """The Bot API call an outbox payload describes, for ``chat_id`` (as the sender does)."""
    params = dict(payload)
    cls = _METHODS[params.pop("method", "sendMessage")]
    params.pop("chat_id", None)
    return cls.model_validate({"chat_id": chat_id, **params})


async def send_preview(bot: Bot, chat_id: int, payload: Mapping[str, Any]) -> int:
    """Send a payload now, as residents will get it; returns the message id. Telegram's
    errors propagate: what Telegram refuses is caught before anything is queued."""
    result = await bot(payload_method(payload, chat_id))
    if isinstance(result, Message | MessageId):
        return result.message_id
    raise TypeError(f"unexpected result {type(result).__name__}")


class BroadcastService:
    def __init__(self, db: Database, clock: Clock, region: Region) -> None:
        self.db = db
        self.clock = clock
        self.region = region

    async def count(self, audience: Audience) -> int:
        """How many residents the audience has now."""
        async with self.db.transaction() as conn:
            return await repo.count_audience(conn, audience, self.region)

    async def create(
        self,
        *,
        admin_id: int,
        payload: Mapping[str, Any],
        audience: Audience,
        send_at: datetime | None,
        urgent: bool,
        progress_chat_id: int,
        progress_message_id: int,
    ) -> Broadcast:
        """Queue the broadcast for its audience as it is now (audited). ``send_at`` None or
        past means now. With no recipients left it is finished at once."""
        now = self.clock.now()
        send_at = now if send_at is None or send_at < now else send_at
        priority = PRIORITY_URGENT if urgent else PRIORITY_NORMAL
        async with self.db.transaction() as conn:
            broadcast = await repo.create_broadcast(
                conn,
                admin_id=admin_id,
                payload=payload,
                audience=audience,
                region=self.region,
                priority=priority,
                send_at=send_at,
                now=now,
                progress_chat_id=progress_chat_id,
                progress_message_id=progress_message_id,
            )
            await repo.audit(
                conn,
                admin_id,
                "broadcast.create",
                now,
                broadcast_id=broadcast.id,
                audience=audience.to_json(),
                recipients=broadcast.recipients,
                send_at=send_at.isoformat(),
                priority=priority,
                payload=dict(payload),
            )
            if broadcast.recipients == 0:
                await repo.finish_broadcast(conn, broadcast.id, now)
        return broadcast

    async def active(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast if it is still scheduled or sending."""
        async with self.db.transaction() as conn:
            broadcast = await repo.get_broadcast(conn, broadcast_id)
        if broadcast is None or broadcast.state not in ("scheduled", "sending"):
            return None
        return broadcast

    async def stop(self, broadcast_id: int, admin_id: int, language: str) -> str | None:
        """Stop sending (audited): what is still queued is dropped. Returns the final report
        (in ``language``), or None if the broadcast had already finished."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            stopped, dropped = await repo.stop_broadcast(conn, broadcast_id, now)
            if stopped:
                await repo.audit(
                    conn,
                    admin_id,
                    "broadcast.stop",
                    now,
                    broadcast_id=broadcast_id,
                    dropped=dropped,
                )
            broadcast = await repo.get_broadcast(conn, broadcast_id)
            numbers = (await repo.progress_of(conn, [broadcast_id]))[broadcast_id]
        if not stopped or broadcast is None:
            return None
        report = progress_text(broadcast, numbers, translator(language), now)
        async with self.db.transaction() as conn:
            await repo.save_progress(conn, broadcast.id, report, now)
        return report

    async def show_progress(self, bot: Bot, broadcast_id: int, *, redraw: bool = False) -> None:
        """Bring the broadcast's progress message up to date now; ``redraw`` also when the
        numbers did not change (its buttons were replaced by a question)."""
        if redraw:
            async with self.db.transaction() as conn:
                await repo.save_progress(conn, broadcast_id, "", self.clock.now())
        await update_broadcast_progress(bot, self.db, self.clock, min_interval=0, only=broadcast_id)
