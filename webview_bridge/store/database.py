"""The database handle: one engine, read and write transactions, migrations.

SQLite runs in WAL mode and every write transaction starts with BEGIN IMMEDIATE, so two
writers queue on the lock instead of failing half-way when a read lock would need upgrading.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: every instance that migrates takes the same PostgreSQL advisory lock.
MIGRATION_LOCK_ID = 0x57564221
# Threads for PostgreSQL work: as many as both pools hold connections, so none waits for a thread.
DATABASE_THREADS = 40

T = TypeVar("T")


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why, without the password."""


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            # Every transaction ends in an explicit commit or rollback: no reset on check-in.
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8, max_overflow=16,
                pool_reset_on_return=None, hide_parameters=True,  # errors reach logs: no customer ids in them
            )
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
            self._reader = self.engine
        else:
            # Transactions (`write`) take connections from one pool; reads and one-statement
            # writes from another whose connections stay in autocommit. They need no BEGIN and
            # COMMIT: under READ COMMITTED every statement sees its own snapshot either way, so a
            # read transaction only costs two round trips. A pool of their own, because switching
            # a shared connection's isolation level at checkout and back at return cost more CPU
            # than the statement. At most 40 connections per instance: 20 in each pool.
            self.engine = create_engine(url, pool_size=5, max_overflow=15, hide_parameters=True)
            self._reader = create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True,
                                         isolation_level="AUTOCOMMIT")
            for engine in (self.engine, self._reader):
                _ping_when_idle(engine)
        self._local = threading.local()
        self._held: list[Connection] = []
        self._held_lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None

    def _held_connection(self) -> Connection | None:
        """The event loop's own connection when it runs SQLite work inline (see run), unless it is
        in a transaction already (work inside another's then takes a connection of its own)."""
        if not getattr(self._local, "inline", False):
            return None
        held: Connection | None = getattr(self._local, "held", None)
        if held is None or held.closed:
            held = self._local.held = self.engine.connect()
            with self._held_lock:
                self._held.append(held)
        return None if held.in_transaction() else held

    def _connection(self) -> Connection:
        held = self._held_connection()
        return self.engine.connect() if held is None else _Kept(held)  # type: ignore[return-value]

    @contextmanager
    def _transaction(self, sqlite_begin: str | None) -> Iterator[Connection]:
        """A transaction on this thread's connection; on SQLite `sqlite_begin` is the statement
        that opens it (read by _sqlite_on_begin), None for none at all."""
        with self._connection() as conn:
            conn.info["wvb_begin"] = sqlite_begin
            try:
                with conn.begin():
                    yield conn
            finally:
                del conn.info["wvb_begin"]

    def write(self) -> AbstractContextManager[Connection]:
        """A transaction that will write: committed on success, rolled back on any exception.
        SQLite's BEGIN IMMEDIATE takes the write lock first, so writers queue instead of failing."""
        return self._transaction("BEGIN IMMEDIATE")

    def one_statement(self) -> AbstractContextManager[Connection]:
        """For exactly one statement that writes: a single statement is atomic by itself, so it
        commits as it runs, without BEGIN and COMMIT around it (two round trips on PostgreSQL).
        Never for two statements that must stand or fall together: those take `write`."""
        return self._autocommit()

    def read(self) -> AbstractContextManager[Connection]:
        """Statements that only read, each seeing the data committed when it starts, as under
        PostgreSQL's READ COMMITTED: no BEGIN or COMMIT on either database (a write in it is a bug:
        it commits at once)."""
        return self._autocommit()

    def _autocommit(self) -> AbstractContextManager[Connection]:
        """Each statement commits (or only reads) on its own: no BEGIN or COMMIT is sent."""
        if self._reader is not self.engine:
            return self._reader.begin()
        held = self._held_connection()
        return _Autocommit(held) if held is not None else self._transaction(None)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run blocking database work from a request handler.

        On SQLite it runs right here on the event loop: a statement on a local file takes
        microseconds, less than the hop to a worker thread and back would cost, and one thread
        needs no lock between its writers. On PostgreSQL, where every statement waits on the
        network, it runs in a worker thread so the loop keeps serving others meanwhile.
        """
        if self.dialect == "sqlite":
            self._local.inline = True  # this thread is an event loop: it keeps one connection
            return work(*args)
        return await self._in_thread(work, *args)

    async def _in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """`work` in a database thread, with the caller's context variables. A caller cancelled
        meanwhile (a client gone, a timeout) still waits for the work to end before it unwinds, so
        no statement is left running on a connection its caller has given up.

        A pool of our own rather than anyio's: the hop costs about two thirds of anyio's CPU
        (its capacity limiter and cancel scope), and a flow on PostgreSQL makes twenty."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="database")
        done = asyncio.wrap_future(self._threads.submit(contextvars.copy_context().run, work, *args))
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            while not done.done():
                try:
                    await asyncio.shield(done)
                except asyncio.CancelledError:
                    pass
            raise

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot reach database {self.safe_url}: {_first_line(exc)}") from exc

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    def upgrade(self) -> None:
        """Apply every migration; concurrent callers on PostgreSQL take turns."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
                    conn.commit()
                try:
                    cfg = _alembic_config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    conn.commit()
                finally:
                    if self.dialect == "postgresql":
                        conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                        conn.commit()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot migrate database {self.safe_url}: {_first_line(exc)}") from exc

    def prepare_for_serving(self) -> None:
        """Migrate an empty database; refuse one that lags behind rather than migrate it unasked."""
        self.ping()
        current = self.current_revision()
        if current is None:
            self.upgrade()
        elif current != self.head_revision():
            raise DatabaseError(
                f"database {self.safe_url} is at revision {current}, the code needs "
                f"{self.head_revision()}: run `webview-bridge db upgrade`"
            )

    def dispose(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)  # work already handed over finishes first
            self._threads = None
        with self._held_lock:
            held, self._held = self._held, []
        for conn in held:
            conn.close()
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _first_line(exc: BaseException) -> str:
    inner: Any = getattr(exc, "orig", None) or exc
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0]


IDLE_BEFORE_PING = 10.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled PostgreSQL connection before use only when it sat idle for a while.

    A ping on every checkout (`pool_pre_ping`) costs a round trip per transaction; a connection
    in steady use has just proved itself. One that waited longer than IDLE_BEFORE_PING (a server
    restart, a proxy's idle timeout) is pinged and, if dead, replaced before the caller sees it.
    A connection that dies while in use fails its statement, and SQLAlchemy then discards every
    connection opened before the failure.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["wvb_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("wvb_idle_since")
        if since is not None and time.monotonic() - since > IDLE_BEFORE_PING:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except Exception as exc:
                raise DisconnectionError("connection lost while idle") from exc  # the pool opens a new one


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Straight to the driver: the statement needs none of SQLAlchemy's execution machinery. A read
    # opens no transaction (None): each statement reads the last commit, and its COMMIT is a no-op.
    begin = conn.info.get("wvb_begin", "BEGIN")
    if begin is not None:
        conn.connection.driver_connection.execute(begin)


class _Autocommit:
    """The held SQLite connection lent to reads or a one-statement write. The driver commits each
    statement as it runs, so nothing is opened or ended around them — unless a statement run
    through SQLAlchemy began its transaction (sending no BEGIN: see _sqlite_on_begin), which
    ends on leaving, as `with conn.begin()` would end it."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        self.conn.info["wvb_begin"] = None
        return self.conn

    def __exit__(self, kind: object, *exc: object) -> None:
        conn = self.conn
        try:
            if conn.in_transaction():
                if kind is None:
                    conn.commit()
                else:
                    conn.rollback()
        finally:
            del conn.info["wvb_begin"]


class _Kept:
    """A held connection lent to one `with` block: leaving the block ends the transaction, not the connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None
