"""Callback data of the admin screens (short prefixes and fields: 64 bytes at most).

The stop button of a broadcast's progress message is
:class:`bot.services.broadcast_progress.BroadcastCb`.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

__all__ = ["AdminCb", "FeedCb", "FlowCb"]


class FlowCb(CallbackData, prefix="abf"):
    """Steps of the /broadcast flow. a: aud (v = audience kind), ok (toggle okrug v),
    okd (okrugs chosen), lang (v), topic (v), now (send now), pri (v = n | u),
    send (confirm), cancel."""

    a: str
    v: str = ""


class FeedCb(CallbackData, prefix="afd"):
    """/feeds screens. a: list (p = page), show, pause, resume, poll, rm (ask), rmok
    (confirmed), add; i = feed id."""

    a: str
    i: int = 0
    p: int = 0


class AdminCb(CallbackData, prefix="aad"):
    """/admins: a = rm (remove the run-time admin i)."""

    a: str
    i: int = 0
