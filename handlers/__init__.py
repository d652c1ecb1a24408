"""aiogram routers, one module-level ``router`` per feature; :func:`root_router` puts them
in order under a fresh root for a dispatcher."""

from __future__ import annotations

from aiogram import Router

__all__ = ["root_router"]


def root_router() -> Router:
    """Every feature router under a new root, for a new Dispatcher.

    Order matters: group chats are answered first, the admin tools come after the resident
    features (their commands are not taken for unknown ones) and the catch-all fallback last.

    A Router belongs to one parent: the feature routers are taken off the root of an earlier
    dispatcher in this process first (tests build one per bot start; the app builds one).
    """
    from handlers import (
        admin,
        districts,
        fallback,
        group,
        help,
        privacy,
        reading,
        settings,
        start,
        topics,
    )

    root = Router(name="root")
    for feature in (
        group.router,
        start.router,
        districts.router,
        topics.router,
        settings.router,
        reading.router,
        privacy.router,
        help.router,
        admin.router,
        fallback.router,
    ):
        _detach(feature)
        root.include_router(feature)
    return root


def _detach(router: Router) -> None:
    parent = router.parent_router
    if parent is not None:
        parent.sub_routers.remove(router)
        router._parent_router = None  # aiogram offers no public way to detach a router
