"""full-text search over lemmatised article text

SQLite: an FTS5 table kept in step with ``articles.search_lemmas`` by triggers.
PostgreSQL: a GIN index on ``to_tsvector('simple', search_lemmas)`` (lemmas are already
normalised, so the 'simple' configuration is the right one).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE article_search USING fts5("
    "search_lemmas, content='articles', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER article_search_ai AFTER INSERT ON articles BEGIN "
    "INSERT INTO article_search(rowid, search_lemmas) VALUES (new.id, new.search_lemmas); END",
    "CREATE TRIGGER article_search_ad AFTER DELETE ON articles BEGIN "
    "INSERT INTO article_search(article_search, rowid, search_lemmas) "
    "VALUES ('delete', old.id, old.search_lemmas); END",
    "CREATE TRIGGER article_search_au AFTER UPDATE OF search_lemmas ON articles BEGIN "
    "INSERT INTO article_search(article_search, rowid, search_lemmas) "
    "VALUES ('delete', old.id, old.search_lemmas); "
    "INSERT INTO article_search(rowid, search_lemmas) VALUES (new.id, new.search_lemmas); END",
    "INSERT INTO article_search(article_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS article_search_au",
    "DROP TRIGGER IF EXISTS article_search_ad",
    "DROP TRIGGER IF EXISTS article_search_ai",
    "DROP TABLE IF EXISTS article_search",
]
POSTGRES_UP = [
    "CREATE INDEX ix_articles_search ON articles USING GIN (to_tsvector('simple', search_lemmas))",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_articles_search"]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
