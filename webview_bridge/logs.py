"""Structured logs: one JSON object per line. Nothing secret is ever passed to a log call."""

from __future__ import annotations

import json
import logging
import sys
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
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), default=str)


def configure(level: int = logging.INFO) -> None:
    # The logging HOWTO's "Optimization": our lines carry neither the caller's source line nor
    # thread/process names, so logging need not look them up for every request's line.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("webview_bridge")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def event(message: str, **fields: Any) -> None:
    EVENTS.info(message, extra={"fields": fields})
