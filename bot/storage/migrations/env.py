"""Alembic environment: always run with a connection handed over by Database.upgrade."""

from alembic import context

from bot.storage.database import in_metadata
from bot.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `newsbot db upgrade` (bot.storage.Database)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER most things
    compare_type=True,
    include_name=in_metadata,
)
with context.begin_transaction():
    context.run_migrations()
