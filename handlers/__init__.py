"""aiogram routers, one per feature. :func:`build_router` assembles them in order."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Router

__all__ = ["build_router"]


def build_router(extra: Iterable[Router] = ()) -> Router:
    """A fresh router tree (a Router can be attached to only one Dispatcher).

    Order matters: group chats are answered first, the catch-all fallback comes last.
    ``extra`` routers (the admin tools) go after the built-in features and before the
    fallback, so their commands are not taken for unknown ones.
    """
    from handlers.districts import build_districts_router
    from handlers.fallback import build_fallback_router
    from handlers.group import build_group_router
    from handlers.help import build_help_router
    from handlers.privacy import build_privacy_router
    from handlers.reading import build_reading_router
    from handlers.settings import build_settings_router
    from handlers.start import build_start_router
    from handlers.topics import build_topics_router

    root = Router(name="root")
    root.include_routers(
        build_group_router(),
        build_start_router(),
        build_districts_router(),
        build_topics_router(),
        build_settings_router(),
        build_reading_router(),
        build_privacy_router(),
        build_help_router(),
        *extra,
    )
    root.include_router(build_fallback_router())
    return root
