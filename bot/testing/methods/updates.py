"""Receiving updates: getUpdates (long polling) and setWebhook / deleteWebhook / getWebhookInfo.

As on Telegram, the two ways exclude each other: while a webhook is set getUpdates answers
409, and a second getUpdates arriving while one waits ends the waiting one with 409.
Delivery to the webhook itself is ``bot.testing.webhook``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from bot.testing.errors import FakeApiError, bad_request
from bot.testing.methods.base import ApiRequest, Handler
from bot.testing.state import UPDATE_TYPES, Poll, Webhook

__all__ = ["CONFLICT_OTHER_POLL", "CONFLICT_WEBHOOK", "METHODS"]

CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]*")


def _allowed(value: Any) -> frozenset[str] | None:
    """allowed_updates as given (None when absent); [] means the default set."""
    if not isinstance(value, list):
        return None
    return frozenset(str(v) for v in value) or UPDATE_TYPES


async def get_updates(request: ApiRequest) -> list[dict[str, Any]]:
    state = request.state
    params = request.params
    if state.webhook is not None:
        raise FakeApiError(409, CONFLICT_WEBHOOK)
    offset = int(params.get("offset") or 0)
    limit = min(max(int(params.get("limit") or 100), 1), 100)
    timeout = max(float(params.get("timeout") or 0), 0.0)
    allowed = _allowed(params.get("allowed_updates"))
    if allowed is not None:
        state.allowed_updates = allowed  # Telegram remembers it for later calls
    if offset > 0:
        state.forget_updates_before(offset)
    elif offset < 0:
        state.keep_last_updates(-offset)

    # Telegram ends the request that was waiting: the newest poller wins.
    if state.poll is not None:
        state.poll.conflict = True
        state.update_notifier.notify()
    poll = Poll()
    state.poll = poll
    state.notifier.notify()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            if poll.conflict:
                raise FakeApiError(409, CONFLICT_OTHER_POLL)
            updates = state.updates_of_types(state.allowed_updates, limit)
            remaining = deadline - loop.time()
            if updates or state.closing or remaining <= 0 or state.webhook is not None:
                return updates
            await state.update_notifier.changed(remaining)
    finally:
        if state.poll is poll:
            state.poll = None
            state.notifier.notify()


def set_webhook(request: ApiRequest) -> bool:
    state = request.state
    params = request.params
    url = str(params.get("url") or "")
    if not url:
        return delete_webhook(request)
    parts = urlsplit(url)
    # Telegram wants HTTPS on a public address; the fake also takes http on 127.0.0.1.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: Wrong HTTP URL")
    secret = params.get("secret_token")
    if secret is not None:
        secret = str(secret)
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
    max_connections = int(params.get("max_connections") or 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("max_connections must be between 1 and 100")
    previous = state.webhook
    allowed = _allowed(params.get("allowed_updates"))
    if allowed is None:
        allowed = previous.allowed_updates if previous is not None else state.allowed_updates
    state.webhook = Webhook(
        url=url,
        secret_token=secret or None,
        allowed_updates=allowed,
        max_connections=max_connections,
    )
    if params.get("drop_pending_updates"):
        state.drop_pending_updates()
    state.update_notifier.notify()  # a waiting long poll returns; delivery starts
    state.notifier.notify()
    return True


def delete_webhook(request: ApiRequest) -> bool:
    state = request.state
    state.webhook = None
    if request.params.get("drop_pending_updates"):
        state.drop_pending_updates()
    state.update_notifier.notify()
    state.notifier.notify()
    return True


def get_webhook_info(request: ApiRequest) -> dict[str, Any]:
    state = request.state
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": state.pending_update_count(),
    }
    webhook = state.webhook
    if webhook is None:
        return info
    info["url"] = webhook.url
    info["max_connections"] = webhook.max_connections
    info["ip_address"] = "127.0.0.1"
    if webhook.allowed_updates != UPDATE_TYPES:
        info["allowed_updates"] = sorted(webhook.allowed_updates)
    if webhook.last_error_date is not None:
        info["last_error_date"] = webhook.last_error_date
        info["last_error_message"] = webhook.last_error_message
    return info


METHODS: dict[str, Handler] = {
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
}
