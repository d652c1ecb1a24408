"""The Bot API methods the fake serves, grouped by what they are about.

``METHODS`` maps a lower-cased method name to its handler (``bot.testing.methods.base``).
"""

from __future__ import annotations

from bot.testing.methods import bot_info, editing, messages, updates
from bot.testing.methods.base import ApiRequest, Handler

__all__ = ["METHODS", "ApiRequest", "Handler"]

METHODS: dict[str, Handler] = {
    **bot_info.METHODS,
    **messages.METHODS,
    **editing.METHODS,
    **updates.METHODS,
}
