"""Persistence: schema, migrations and typed repository functions."""

from bot.storage.database import Database

__all__ = ["Database"]
