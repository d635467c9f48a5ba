"""How `webview-bridge serve` runs uvicorn: trusted proxy headers, a bound on request heads, and
one JSON log line per event, uvicorn's own included (PROTOCOL §1, §10).

Request heads: uvicorn's default parser (httptools) takes a head of any size, and joins a
header's pieces by repeated concatenation, so one huge header costs the event loop — and every
request waiting on it — quadratic time. uvicorn's h11 parser has a bound
(h11_max_incomplete_event_size) but parses in pure Python, several times the CPU per request;
so the httptools protocol is kept and the bound is added to it here (see README, "Hardening").
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from webview_bridge import logs
from webview_bridge.settings import Settings

MAX_HEAD_BYTES = 64 * 1024  # request line and headers (PROTOCOL §1)
# A head that has not arrived whole by then is a slow client holding a connection: closed.
HEAD_TIMEOUT_SECONDS = 30.0
_REFUSAL = b"request line and headers are larger than 64 KiB"


class _Head:
    """Where the current request head stands. Kept in one slotted object: uvicorn's protocol
    already has 28 attributes, and past 30 CPython stops sharing instance-dict keys, which made
    every connection 4 µs dearer when these were attributes of their own."""

    __slots__ = ("in_message", "open", "counted", "uncounted", "begun", "chunk", "timer", "refused")

    def __init__(self) -> None:
        self.in_message = False  # a request has begun and not ended
        self.open = False  # …and its head is not complete
        self.counted = 0  # bytes of the open head counted so far
        self.uncounted = False  # the head began inside a chunk that also carried an earlier request
        self.begun = 0  # requests begun in the chunk being parsed
        self.chunk = 0  # size of the chunk being parsed
        self.timer: asyncio.TimerHandle | None = None
        self.refused = False


class BoundedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over MAX_HEAD_BYTES with 431 and
    closing the connection, and closing one whose head is still incomplete after
    HEAD_TIMEOUT_SECONDS.

    A head is measured twice: the chunks that arrive while it is open (so a huge head is cut
    off as it grows, before the parser has buffered more than a chunk past the bound), and its
    parsed size once complete (for a head that arrived in one chunk). A request whose head comes
    in one chunk — nearly all of them — costs a few comparisons and no timer.
    """

    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head = _Head()

    def data_received(self, data: bytes) -> None:
        head = self._head
        if head.refused:
            return
        idle = not head.in_message
        head.begun, head.chunk = 0, len(data)
        super().data_received(data)
        if not head.open or head.refused:
            return
        if head.begun == 0:  # the whole chunk belongs to the open head
            head.counted += len(data)
        elif head.begun == 1 and idle:  # the chunk began with this head
            head.counted = len(data)
        else:  # earlier requests shared the chunk: its share of this head is measured when complete
            head.uncounted = True
        if head.counted > self.max_head_bytes:
            self._refuse()
        elif head.timer is None:
            head.timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def on_message_begin(self) -> None:
        head = self._head
        head.begun += 1
        head.in_message = head.open = True
        head.counted, head.uncounted = 0, False
        if not head.refused:
            super().on_message_begin()

    def on_headers_complete(self) -> None:
        head = self._head
        head.open = False
        if head.timer is not None:
            head.timer.cancel()
            head.timer = None
        if head.refused:
            return
        # The head is no larger than what was counted plus this chunk: usually settled without measuring.
        if (head.uncounted or head.counted + head.chunk > self.max_head_bytes) and self._head_size() > self.max_head_bytes:
            self._refuse()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._head.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._head.in_message = False
        if not self._head.refused:
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._head.refused:  # the connection is already answered and closing
            super().send_400_response(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head.timer is not None:
            self._head.timer.cancel()
            self._head.timer = None
        super().connection_lost(exc)

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse(self) -> None:
        self._head.refused = True
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: " + str(len(_REFUSAL)).encode() + b"\r\n",
                        b"connection: close\r\n\r\n", _REFUSAL])
        self.transport.write(b"".join(content))
        self.transport.close()
        self.logger.warning("request head refused: over %d bytes", self.max_head_bytes)

    def _head_too_slow(self) -> None:
        self._head.timer = None
        if self._head.open and not self.transport.is_closing():
            self._head.refused = True
            self.transport.close()


def configure_logging() -> None:
    """uvicorn's own logger and every library's (the root, Python's warnings included) write our
    JSON lines; a crash our exception handler already logged is not written a second time by uvicorn."""
    logging.captureWarnings(True)
    for name in ("uvicorn", ""):
        handler = logs.json_handler()
        handler.addFilter(logs.not_logged_yet)
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        if name:
            logger.propagate = False


_GC_THRESHOLDS = (10_000, 10, 10)


def run(app: Starlette, settings: Settings) -> None:
    configure_logging()
    # What lives as long as the process (modules, routes, the bank directory, compiled statements)
    # is set aside from the cyclic garbage collector, so its full collections walk what requests
    # made rather than the whole heap again; a larger first generation lets most of a request's
    # objects die before any collection looks at them.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    uvicorn.run(app, **server_options(settings))


# An idle kept connection is closed after this long: longer than the 60 s idle timeout of common
# load balancers and proxies, so they end idle connections, not the server. (A server closing
# first races a request the proxy has just sent on that connection, which the proxy then answers
# with 502; so does a client whose own idle limit is the same as the server's, as httpx's default
# 5 s is uvicorn's.)
KEEP_ALIVE_SECONDS = 75


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `serve`."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": BoundedHeadProtocol,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "access_log": False,  # EdgeMiddleware writes one line per request
        "server_header": False,
        "log_config": None,  # configure_logging did it
        "log_level": "warning",
    }
