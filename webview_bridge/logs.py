"""Structured logs: one JSON object per line. Nothing secret is ever passed to a log call, and
an exception's report carries no values from the database (see _message)."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from types import TracebackType
from typing import Any

ACCESS = logging.getLogger("webview_bridge.access")
EVENTS = logging.getLogger("webview_bridge")


class JsonFormatter(logging.Formatter):
    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # one strftime per second, not per line
            self._second, self._stamp = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        line: dict[str, Any] = {
            "time": self._stamp,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = format_exception(record.exc_info[1])
        return json.dumps(line, separators=(",", ":"), default=str)


# Errors from these carry what the database was given or holds: SQL parameters, and in
# PostgreSQL's DETAIL lines the key values (customer ids) a constraint tripped over.
_DATABASE_MODULES = frozenset({"sqlalchemy", "psycopg", "sqlite3"})


def _message(exc: BaseException) -> str:
    if type(exc).__module__.partition(".")[0] not in _DATABASE_MODULES:
        return str(exc)
    driver_error = getattr(exc, "orig", None) or exc
    sqlstate = getattr(driver_error, "sqlstate", None)
    if sqlstate is not None:  # psycopg: the condition and where, never the values
        diag = driver_error.diag
        where = ", ".join(f"{k} {v}" for k, v in (("constraint", diag.constraint_name), ("table", diag.table_name),
                                                     ("column", diag.column_name)) if v)
        said = f"SQLSTATE {sqlstate}" + (f" ({where})" if where else "")
    else:  # SQLite names the constraint and columns, not the values
        said = (str(driver_error).strip().splitlines() or [""])[0]
    statement = getattr(exc, "statement", None)  # bound parameters are not part of it
    return said + (f" [SQL: {' '.join(str(statement).split())[:500]}]" if statement else "")


def format_exception(exc: BaseException) -> str:
    """Like Python's own report (tracebacks, causes first), with database errors' messages cut
    down to the condition and the statement."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = []
    for error in reversed(chain):
        tb: TracebackType | None = error.__traceback__
        frames = "".join(traceback.format_tb(tb)) if tb else ""
        parts.append(f"Traceback (most recent call last):\n{frames}{type(error).__module__}.{type(error).__qualname__}: "
                     f"{_message(error)}")
    return "\n\nwhich led to:\n\n".join(parts)


def json_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


_LOGGED = "_webview_bridge_logged"


def crash(exc: BaseException, **fields: Any) -> None:
    """An unhandled error, logged once: uvicorn, which Starlette hands it to next, stays quiet about it."""
    EVENTS.error("unhandled error", exc_info=exc, extra={"fields": fields})
    try:
        setattr(exc, _LOGGED, True)
    except AttributeError:  # an exception type with __slots__: it may be reported twice
        pass


def not_logged_yet(record: logging.LogRecord) -> bool:
    """A logging filter: drops a report of an exception that crash() has logged already."""
    return not (record.exc_info and getattr(record.exc_info[1], _LOGGED, False))


def configure(level: int = logging.INFO) -> None:
    # The logging HOWTO's "Optimization": our lines carry neither the caller's source line nor
    # thread/process names, so logging need not look them up for every request's line.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False
    root = logging.getLogger("webview_bridge")
    root.handlers[:] = [json_handler()]
    root.setLevel(level)
    root.propagate = False


def event(message: str, **fields: Any) -> None:
    EVENTS.info(message, extra={"fields": fields})
