"""Migration 0008 creates exactly the tables schema.py declares, on both databases, and undoes them."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from webview_bridge.sandbox_bank import schema
from webview_bridge.store.database import Database, _alembic_config
from webview_bridge.store.schema import metadata

TABLES = {t.name for t in (schema.sandbox_bank_consents, schema.sandbox_bank_authorisations,
                           schema.sandbox_bank_login_failures, schema.sandbox_bank_usage)}


def test_the_migration_matches_the_declared_tables(database_url):
    db = Database(database_url)
    try:
        assert db.current_revision() == db.head_revision() == "0008"
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "include_object": lambda obj, name, kind, reflected, other: (
                    (obj.table.name if kind in ("column", "index", "unique_constraint", "foreign_key_constraint") else name)
                    in TABLES),
                "compare_type": True,
            })
            differences = compare_metadata(context, metadata)
        assert differences == []
        assert TABLES <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
            conn.commit()
        assert not TABLES & set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
