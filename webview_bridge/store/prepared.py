"""Statements on the hot paths, compiled once and run on the driver's cursor.

SQLAlchemy Core spends ~40 µs of Python around each statement SQLite answers in ~3 µs (cache
key, execution context, result object), and about as much again around each psycopg call on
PostgreSQL. A `Prepared` statement is compiled by SQLAlchemy once, and its bind and result
processors are SQLAlchemy's own, so values go in and come out exactly as `Connection.execute`
would store and return them; only the per-call machinery is skipped. A driver error comes out as
the SQLAlchemy error `Connection.execute` would raise, and a lost connection is invalidated.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    # Each positional parameter: its name, SQLAlchemy's processor, whether the caller must give
    # it, and the value written into the statement (status == "PENDING") when the caller does not.
    binds: Sequence[tuple[str, Callable[[Any], Any] | None, bool, Any]]
    named: bool  # the driver takes a mapping (psycopg's %(name)s) rather than a sequence (sqlite's ?)
    row: Any  # a namedtuple class, or None for statements without rows
    result_processors: Sequence[Callable[[Any], Any] | None]


class Prepared:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, ...], _Plan] = {}  # by dialect and, for INSERT, columns given

    def _plan(self, conn: Connection, params: Mapping[str, Any]) -> _Plan:
        # An INSERT compiles to the columns it is given; anything else has one form per dialect.
        keys = (conn.dialect.name, *(params if isinstance(self.statement, Insert) else ()))
        plan = self._plans.get(keys)
        if plan is None:
            dialect = conn.dialect
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys[1:]) if len(keys) > 1 else None)
            if dialect.paramstyle not in ("qmark", "pyformat") or "POSTCOMPILE" in compiled.string:
                raise TypeError("Prepared runs plain qmark or pyformat statements only")
            named = dialect.paramstyle == "pyformat"
            if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
                raise TypeError("give a Prepared statement every column: it computes no Python-side defaults")
            processors = compiled._bind_processors
            columns = getattr(compiled, "_result_columns", None) or []
            binds = compiled.binds
            plan = _Plan(
                sql=compiled.string,
                binds=[(compiled.escaped_bind_names.get(name, name) if named else name, processors.get(name),
                        binds[name].required, binds[name].effective_value)
                       for name in (binds if named else compiled.positiontup or ())],
                named=named,
                row=namedtuple("Row", [c.keyname for c in columns]) if columns else None,  # type: ignore[misc]
                result_processors=[c.type._cached_result_processor(dialect, None) for c in columns],
            )
            self._plans[keys] = plan
        return plan

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[_Plan, Any]:
        plan = self._plan(conn, params)
        values = []
        for name, process, required, constant in plan.binds:
            if name in params:
                value = params[name]
            elif required:
                raise KeyError(f"a value is required for {name}")
            else:
                value = constant
            values.append(value if process is None else process(value))
        arguments: Any = dict(zip((b[0] for b in plan.binds), values)) if plan.named else values
        driver = conn.connection.driver_connection
        try:
            return plan, driver.execute(plan.sql, arguments)
        except conn.dialect.loaded_dbapi.Error as exc:
            lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
            if lost:
                conn.invalidate(exc)
            raise DBAPIError.instance(plan.sql, None, exc, conn.dialect.loaded_dbapi.Error,
                                      hide_parameters=True, dialect=conn.dialect,
                                      connection_invalidated=lost) from exc

    @staticmethod
    def _row(plan: _Plan, raw: Sequence[Any]) -> Any:
        return plan.row._make([v if p is None else p(v) for p, v in zip(plan.result_processors, raw)])

    def first(self, conn: Connection, **params: Any) -> Any:
        """The first row (attribute access by column name), or None."""
        plan, cursor = self._run(conn, params)
        raw = cursor.fetchone()
        cursor.close()
        return None if raw is None else self._row(plan, raw)

    def all(self, conn: Connection, **params: Any) -> list[Any]:
        plan, cursor = self._run(conn, params)
        rows = [self._row(plan, raw) for raw in cursor.fetchall()]
        cursor.close()
        return rows

    def run(self, conn: Connection, **params: Any) -> int:
        """Execute an INSERT, UPDATE or DELETE; the number of rows it touched."""
        _plan, cursor = self._run(conn, params)
        count = cursor.rowcount
        cursor.close()
        return count
