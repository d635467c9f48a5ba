"""The migrations build exactly the tables store/schema.py (and the sandbox bank's schema) declare,
on both databases, and every one of them can be undone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from webview_bridge.store.database import Database, _alembic_config
from webview_bridge.store.schema import metadata


def test_the_migrations_match_the_declared_schema_and_undo_cleanly(database_url):
    db = Database(database_url)
    try:
        assert db.current_revision() == db.head_revision()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert differences == []
        assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
            conn.commit()
        assert not set(metadata.tables) & set(inspect(db.engine).get_table_names())
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()
