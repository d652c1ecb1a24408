"""Feeds as operators and admins manage them."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network

from bot import __version__
from bot.config import Settings
from bot.feeds.fetch import FetchPolicy

__all__ = ["fetch_policy"]


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The operator's fetch limits from settings."""
    return FetchPolicy(
        user_agent=f"DistrictNewsBot/{__version__}",
        contact_url=settings.contact_url,
        broken_after=timedelta(hours=settings.feed_broken_after_hours),
        allowed_networks=tuple(ip_network(n, strict=False) for n in settings.feed_allowed_networks),
    )
