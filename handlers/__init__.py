"""aiogram routers, one per feature. :func:`build_router` assembles them in order."""

from __future__ import annotations

from aiogram import Router

__all__ = ["build_router"]


def build_router() -> Router:
    """A fresh router tree (a Router can be attached to only one Dispatcher)."""
    root = Router(name="root")
    return root
