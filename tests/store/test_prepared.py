"""Prepared statements store and return exactly what SQLAlchemy's Connection.execute would."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import apps

_INSERT = Prepared(insert(apps))
_GET = Prepared(select(apps).where(apps.c.id == bindparam("b_id")))
_RENAME = Prepared(update(apps).where(apps.c.id == bindparam("b_id")).values(name=bindparam("b_name")))


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def _row(app_id: str, created_at: datetime) -> dict:
    return {"id": app_id, "name": "Ünïcode & co", "roles": "tpp", "secret_hash": app_id.ljust(64, "0"),
            "redirect_urls": ["https://a.example/cb", "myapp://back"], "bank_id": None,
            "independent_activation": True, "embed_origin": None, "created_at": created_at}


def test_values_round_trip_as_core_stores_and_reads_them(db: Database) -> None:
    created = datetime(2026, 11, 21, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with db.write() as conn:
        _INSERT.run(conn, **_row("app_prepared", created))
        conn.execute(insert(apps), _row("app_core", created))
    with db.read() as conn:
        ours = _GET.first(conn, b_id="app_prepared")
        core = conn.execute(select(apps).where(apps.c.id == "app_core")).one()
        missing = _GET.first(conn, b_id="app_nobody")
    assert missing is None
    assert ours.created_at == created and ours.created_at.tzinfo == timezone.utc
    assert ours.redirect_urls == ["https://a.example/cb", "myapp://back"]
    assert ours.independent_activation is True
    # Every column but the two keys matches; and what each wrote reads back the same the other way.
    assert tuple(ours)[1:3] + tuple(ours)[4:] == tuple(core)[1:3] + tuple(core)[4:]
    with db.read() as conn:
        assert tuple(conn.execute(select(apps).where(apps.c.id == "app_prepared")).one())[4:] == tuple(core)[4:]
        assert tuple(_GET.first(conn, b_id="app_core"))[4:] == tuple(core)[4:]


def test_updates_report_the_rows_they_changed(db: Database) -> None:
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    with db.write() as conn:
        _INSERT.run(conn, **_row("app_one", now))
        assert _RENAME.run(conn, b_id="app_one", b_name="renamed") == 1
        assert _RENAME.run(conn, b_id="app_nobody", b_name="renamed") == 0
    with db.read() as conn:
        assert _GET.first(conn, b_id="app_one").name == "renamed"


@pytest.mark.databases("sqlite")  # elsewhere Prepared is Connection.execute, which computes them
def test_a_statement_that_needs_python_side_defaults_is_refused(db: Database) -> None:
    row = _row("app_defaults", datetime(2026, 1, 1, tzinfo=timezone.utc))
    del row["independent_activation"]  # its default is computed by SQLAlchemy's execution context
    with db.write() as conn, pytest.raises(TypeError, match="every column"):
        Prepared(insert(apps)).run(conn, **row)


def test_a_driver_error_is_the_error_core_would_raise(db: Database) -> None:
    """Callers catch SQLAlchemy's IntegrityError (a race lost on a unique key), whichever path ran."""
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    with db.write() as conn:
        _INSERT.run(conn, **_row("app_twice", now))
    with pytest.raises(IntegrityError), db.write() as conn:
        _INSERT.run(conn, **_row("app_twice", now))
    with db.read() as conn:
        assert _GET.first(conn, b_id="app_twice").name == "Ünïcode & co"
