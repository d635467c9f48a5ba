"""Reads see each commit as it lands, on both databases; a one-statement write is committed the
moment it runs, and a failing one leaves nothing; pooled PostgreSQL connections: one the server
dropped while it sat idle is replaced before a request sees it, and one in steady use is not
pinged before every transaction; work handed to a database thread sees its caller's context and
outlives its caller's cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.support.aio import run
from webview_bridge.store import database
from webview_bridge.store.database import Database


def test_a_read_holds_no_snapshot_each_statement_sees_the_last_commit(database_url):
    """As under PostgreSQL's READ COMMITTED, on SQLite too: a read opens no transaction, so it
    costs no BEGIN and COMMIT and never pins an old snapshot (nor holds back a WAL checkpoint)."""
    db = Database(database_url)
    try:
        with db.write() as conn:
            conn.execute(text("CREATE TABLE counter (n INTEGER)"))
            conn.execute(text("INSERT INTO counter VALUES (1)"))
        with db.read() as conn:
            assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 1
            with Database(database_url).engine.connect() as other:  # another request commits meanwhile
                other.execute(text("UPDATE counter SET n = 2"))
                other.commit()
            assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 2
    finally:
        db.dispose()


def test_a_one_statement_write_is_committed_as_it_runs_and_a_failing_one_leaves_nothing(database_url):
    db = Database(database_url)
    other = Database(database_url)
    try:
        with db.write() as conn:
            conn.execute(text("CREATE TABLE pairs (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)"))
        with db.one_statement() as conn:
            conn.execute(text("INSERT INTO pairs VALUES (1, 10), (2, 20)"))
            with other.read() as elsewhere:  # already there for everyone, before the block ends
                assert elsewhere.execute(text("SELECT count(*) FROM pairs")).scalar_one() == 2
        with pytest.raises(Exception):
            with db.one_statement() as conn:  # the second row breaks the key: the first is not kept either
                conn.execute(text("INSERT INTO pairs VALUES (3, 30), (1, 11)"))
        with other.read() as elsewhere:
            assert elsewhere.execute(text("SELECT k, v FROM pairs ORDER BY k")).all() == [(1, 10), (2, 20)]
    finally:
        other.dispose()
        db.dispose()


def _pooled_connection_dropped_by_the_server(database_url: str, use: str = "read") -> Database:
    """A database whose pooled connection for `use` (read: reads and one-statement writes; write:
    transactions) the server has since dropped."""
    db = Database(database_url)
    with getattr(db, use)() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with Database(database_url).engine.connect() as admin:  # an idle-session timeout or a restart, as the pool sees it
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    return db


@pytest.mark.databases("postgresql")
@pytest.mark.parametrize("use", ["read", "write"])
def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url, monkeypatch, use):
    db = _pooled_connection_dropped_by_the_server(database_url, use)
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 0.0)
    try:
        with getattr(db, use)() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


@pytest.mark.databases("postgresql")
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


_CALLER = contextvars.ContextVar("caller", default=None)


@pytest.mark.databases("postgresql")
def test_a_cancelled_caller_waits_for_its_database_work_to_end(database_url):
    """A request cancelled mid-statement (its client gone, a timeout) does not unwind while the
    statement still runs in its thread: the work ends first, with the caller's context, then the
    caller is cancelled. And the work is not abandoned: what it writes is written."""
    db = Database(database_url)
    started, release = threading.Event(), threading.Event()
    seen = []

    def work() -> None:
        seen.append(_CALLER.get())
        started.set()
        release.wait(timeout=30)
        with db.one_statement() as conn:
            conn.execute(text("CREATE TABLE finished (n INTEGER)"))

    async def scenario() -> tuple[bool, bool]:
        _CALLER.set("request 1")
        caller = asyncio.ensure_future(db.run(work))
        while not started.is_set():
            await asyncio.sleep(0)
        caller.cancel()
        for _ in range(50):  # plenty of turns of the loop for a caller that did not wait to be gone
            await asyncio.sleep(0)
        ended_early = caller.done()
        release.set()
        try:
            await caller
        except asyncio.CancelledError:
            return ended_early, True
        return ended_early, False

    try:
        ended_early, cancelled = run(scenario())
        assert not ended_early and cancelled
        assert seen == ["request 1"]
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM finished")).scalar_one() == 0
    finally:
        db.dispose()
