"""The database schema, as SQLAlchemy Core tables (one source of truth for migrations).

Times are stored as UTC and always come back timezone-aware (:class:`UTCDateTime`).
Region entities (districts, okrugs, topics) are referenced by their stable slugs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

__all__ = ["metadata"]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite keeps the text as given: drop the offset so string order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=naming)
now_sql = text("CURRENT_TIMESTAMP")


def _ts(name: str, **kw: Any) -> Column[datetime]:
    return Column(name, UTCDateTime(), **kw)


feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False, server_default=""),
    # Binding: "city", "okrug" or "district", with the okrug/district slug.
    Column("binding_kind", String(16), nullable=False, server_default="city"),
    Column("binding_slug", String(64)),
    Column("language", String(8), nullable=False, server_default="ru"),
    Column("poll_interval", Integer, nullable=False, server_default="900"),
    Column("origin", String(16), nullable=False, server_default="file"),  # file | admin
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    # Fetch state
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("ttl_minutes", Integer),  # the feed's own <ttl>, as last seen
    _ts("next_poll_at"),
    _ts("last_polled_at"),
    # Health
    _ts("last_success_at"),
    _ts("last_error_at"),
    Column("last_error", Text),
    Column("consecutive_errors", Integer, nullable=False, server_default="0"),
    _ts("failing_since"),
    Column("broken", Boolean, nullable=False, server_default=text("false")),
    _ts("broken_notified_at"),
    _ts("quiet_notified_at"),
    _ts("created_at", nullable=False, server_default=now_sql),
    Index("ix_feeds_due", "enabled", "next_poll_at"),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    # The article shown for the story; not a foreign key to avoid a cycle with articles.
    Column("representative_article_id", Integer),
    Column("source_count", Integer, nullable=False, server_default="1"),
    _ts("first_published_at", nullable=False),
    _ts("last_article_at", nullable=False),
    # When we first stored it: digest periods use this, so a late-fetched story is not lost.
    _ts("created_at", nullable=False, server_default=now_sql),
    Index("ix_stories_first_published_at", "first_published_at"),
    Index("ix_stories_created_at", "created_at"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("identity", Text, nullable=False),  # guid, else canonical link, else hash
    Column("url", Text, nullable=False),
    Column("canonical_url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("summary", Text, nullable=False, server_default=""),
    Column("image_url", Text),
    Column("content_hash", String(64), nullable=False),
    _ts("published_at", nullable=False),
    _ts("fetched_at", nullable=False),
    _ts("updated_at"),  # set when a later poll changed title or text
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="SET NULL")),
    # Understanding output; tagged_at NULL means "still to tag" (crash-safe follow-up).
    _ts("tagged_at"),
    Column("search_lemmas", Text, nullable=False, server_default=""),
    Column("signature", LargeBinary),
    UniqueConstraint("feed_id", "identity"),
    Index("ix_articles_published_at", "published_at"),
    Index("ix_articles_canonical_url", "canonical_url"),
    Index("ix_articles_story_id", "story_id"),
    Index("ix_articles_untagged", "tagged_at"),
)

article_districts = Table(
    "article_districts",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("district", String(64), primary_key=True),
    Column("score", Float, nullable=False, server_default="1"),
    Index("ix_article_districts_district", "district"),
)

article_okrugs = Table(
    "article_okrugs",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("okrug", String(16), primary_key=True),
    Column("mentioned", Boolean, nullable=False, server_default=text("false")),
    Index("ix_article_okrugs_okrug", "okrug"),
)

article_topics = Table(
    "article_topics",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(32), primary_key=True),
    Column("score", Float, nullable=False, server_default="1"),
    Index("ix_article_topics_topic", "topic"),
)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram user id
    Column("chat_id", BigInteger, nullable=False),
    Column("language", String(8), nullable=False, server_default="ru"),
    Column("timezone", String(64), nullable=False, server_default="Europe/Moscow"),
    Column("delivery_minute", Integer, nullable=False, server_default="480"),  # local HH*60+MM
    Column("mode", String(16), nullable=False, server_default="daily"),  # daily|weekly|instant
    Column("weekday", Integer, nullable=False, server_default="0"),  # 0=Monday, weekly mode
    Column("paused", Boolean, nullable=False, server_default=text("false")),
    Column("notify_empty", Boolean, nullable=False, server_default=text("false")),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("inactive_reason", Text),
    _ts("next_delivery_at"),
    _ts("last_digest_at"),
    _ts("created_at", nullable=False, server_default=now_sql),
    _ts("updated_at", nullable=False, server_default=now_sql),
    Index("ix_users_due", "active", "next_delivery_at"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # district | okrug
    Column("slug", String(64), primary_key=True),
    _ts("created_at", nullable=False, server_default=now_sql),
    Index("ix_subscriptions_slug", "kind", "slug"),
)

# No rows for a user means "all topics".
topic_subscriptions = Table(
    "topic_subscriptions",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(32), primary_key=True),
)

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # daily | weekly | instant | on_demand
    _ts("period_start", nullable=False),
    _ts("period_end", nullable=False),
    Column("story_count", Integer, nullable=False),
    Column("part_count", Integer, nullable=False),
    _ts("created_at", nullable=False, server_default=now_sql),
    UniqueConstraint("user_id", "kind", "period_end"),
    Index("ix_digests_created_at", "created_at"),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("admin_id", BigInteger, nullable=False),
    Column("payload", JSON, nullable=False),  # what to send: text / photo+caption / copy
    Column("audience", JSON, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    # draft | scheduled | sending | stopped | done
    Column("state", String(16), nullable=False, server_default="draft"),
    _ts("send_at"),
    Column("progress_chat_id", BigInteger),
    Column("progress_message_id", BigInteger),
    Column("recipients", Integer, nullable=False, server_default="0"),
    # The last progress text shown to the admin and when: edit only on change, rate-limited.
    Column("progress_text", Text),
    _ts("progress_at"),
    _ts("created_at", nullable=False, server_default=now_sql),
    _ts("finished_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("kind", String(16), nullable=False),  # digest | alert | broadcast | notice
    Column("priority", Integer, nullable=False, server_default="0"),  # higher goes first
    Column("payload", JSON, nullable=False),  # method + params for the Bot API
    # queued | sending | sent | failed | dropped
    Column("state", String(16), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _ts("not_before", nullable=False, server_default=now_sql),
    Column("last_error", Text),
    Column("broadcast_id", Integer, ForeignKey("broadcasts.id", ondelete="SET NULL")),
    Column("telegram_message_id", BigInteger),
    _ts("created_at", nullable=False, server_default=now_sql),
    _ts("sent_at"),
    Index("ix_outbox_ready", "state", "priority", "not_before", "id"),
    Index("ix_outbox_chat_state", "chat_id", "state"),
    Index("ix_outbox_broadcast_state", "broadcast_id", "state"),
)

admins = Table(
    "admins",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("added_by", BigInteger),
    _ts("created_at", nullable=False, server_default=now_sql),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("admin_id", BigInteger, nullable=False),
    Column("action", String(64), nullable=False),
    Column("details", JSON, nullable=False),
    _ts("created_at", nullable=False, server_default=now_sql),
    Index("ix_audit_log_created_at", "created_at"),
)
