"""Pooled PostgreSQL connections: one the server dropped while it sat idle is replaced before a
request sees it, and one in steady use is not pinged before every transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from webview_bridge.store import database
from webview_bridge.store.database import Database

pytestmark = pytest.mark.databases("postgresql")


def _pooled_connection_dropped_by_the_server(database_url: str) -> Database:
    db = Database(database_url)
    with db.read() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with Database(database_url).engine.connect() as admin:  # an idle-session timeout or a restart, as the pool sees it
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    return db


def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url, monkeypatch):
    db = _pooled_connection_dropped_by_the_server(database_url)
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 0.0)
    try:
        with db.write() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_a_connection_in_steady_use_is_not_pinged(database_url, monkeypatch):
    db = _pooled_connection_dropped_by_the_server(database_url)
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 3600.0)
    try:
        with pytest.raises(OperationalError), db.read() as conn:  # no ping: the dead connection is used
            conn.execute(text("SELECT 1"))
        with db.read() as conn:  # and the failure discarded it
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()
