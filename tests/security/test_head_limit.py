"""The bound on request heads (PROTOCOL §1) and the life of idle connections, on the protocol
object itself: bytes in, what the server wrote and whether it closed, with a loop whose timers
the test fires by hand."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from webview_bridge.serving import HEAD_TIMEOUT_SECONDS, MAX_HEAD_BYTES, BoundedHeadProtocol


class Loop:
    """Records what the protocol schedules: app tasks and timers."""

    def __init__(self) -> None:
        self.tasks: list[Any] = []
        self.timers: list[Timer] = []

    def create_task(self, coroutine: Any, **_: Any) -> Any:
        coroutine.close()  # the app is not run: only whether it would have been
        self.tasks.append(coroutine)
        return Task()

    def call_later(self, delay: float, callback: Any, *args: Any) -> Timer:
        timer = Timer(delay, callback, args)
        self.timers.append(timer)
        return timer


class Task:
    def add_done_callback(self, callback: Any) -> None:
        pass


class Timer:
    def __init__(self, delay: float, callback: Any, args: tuple) -> None:
        self.delay, self.callback, self.args, self.cancelled = delay, callback, args, False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        assert not self.cancelled
        self.callback(*self.args)


class Transport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: Any, receive: Any, send: Any) -> None:
    pass


def _fresh() -> tuple[BoundedHeadProtocol, Transport, Loop]:
    loop = Loop()
    protocol = BoundedHeadProtocol(uvicorn.Config(_app, log_level="warning"), ServerState(), {}, _loop=loop)
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport, loop


@pytest.fixture
def connection():
    return _fresh()


def head(size: int) -> bytes:
    """A GET whose head is `size` bytes on the wire."""
    start, end = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"\r\n\r\n"
    return start + b"p" * (size - len(start) - len(end)) + end


def refused(transport: Transport) -> bool:
    return transport.closed and transport.written.startswith(b"HTTP/1.1 431 ")


def test_a_small_head_in_one_chunk_reaches_the_app_with_no_timer(connection):
    protocol, transport, loop = connection
    protocol.data_received(head(500))
    assert len(loop.tasks) == 1 and loop.timers == [] and not transport.closed


@pytest.mark.parametrize("chunk", [1024, 64 * 1024, 256 * 1024])
def test_heads_just_under_the_bound_are_served_however_they_arrive(connection, chunk):
    protocol, transport, loop = connection
    data = head(MAX_HEAD_BYTES - 200)
    for start in range(0, len(data), chunk):
        protocol.data_received(data[start:start + chunk])
    assert len(loop.tasks) == 1 and not transport.closed


def test_a_big_head_in_one_chunk_is_refused_when_complete(connection):
    protocol, transport, loop = connection
    protocol.data_received(head(70 * 1024) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert refused(transport) and loop.tasks == []


def test_a_growing_head_is_cut_off_before_it_completes(connection):
    protocol, transport, loop = connection
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ")
    sent = 0
    while not transport.closed:
        protocol.data_received(b"p" * 4096)
        sent += 4096
        assert sent < MAX_HEAD_BYTES + 8192, "never refused"
    assert refused(transport) and loop.tasks == []
    protocol.data_received(b"p" * 4096 + b"\r\n\r\n")  # whatever follows is ignored
    assert loop.tasks == []
    assert loop.timers[0].cancelled is False  # the timer of the open head…
    protocol.connection_lost(None)
    assert loop.timers[0].cancelled  # …ends with the connection


def test_a_head_that_is_too_slow_is_closed(connection):
    protocol, transport, loop = connection
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
    (timer,) = loop.timers
    assert timer.delay == HEAD_TIMEOUT_SECONDS
    protocol.data_received(b"X-Slow: 1\r\n")
    assert len(loop.timers) == 1  # one timer per head, not one per chunk
    timer.fire()
    assert transport.closed and loop.tasks == []


def test_the_timer_ends_when_the_head_completes(connection):
    protocol, transport, loop = connection
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
    protocol.data_received(b"\r\n")
    assert loop.timers[0].cancelled and len(loop.tasks) == 1 and not transport.closed


def test_pipelined_heads_are_each_measured_on_their_own(connection):
    protocol, transport, loop = connection
    small = head(2000)
    protocol.data_received(small * 40)  # 80 KB of heads in one chunk, each far under the bound
    assert not transport.closed
    # A head that begins inside a chunk holding an earlier request, then grows over the bound.
    protocol2, transport2, _ = _fresh()
    protocol2.data_received(small + b"GET / HTTP/1.1\r\nX-Pad: ")
    for _ in range(20):
        if transport2.closed:
            break
        protocol2.data_received(b"p" * 8192)
    assert refused(transport2)


def test_a_head_completing_in_a_shared_chunk_is_measured_exactly(connection):
    protocol, transport, loop = connection
    protocol.data_received(head(2000) + head(70 * 1024)[:1000])  # the second head begins in a shared chunk
    protocol.data_received(head(70 * 1024)[1000:])
    assert refused(transport) and len(loop.tasks) == 1  # the first request ran; the second did not


# --- idle kept connections -----------------------------------------------------------------

def test_an_idle_kept_connection_outlives_a_proxys_idle_timeout():
    # With `serve`'s own options, after an answer the connection is closed only once it has sat
    # idle longer than the 60 s after which load balancers and proxies drop theirs.
    from webview_bridge.serving import server_options
    from webview_bridge.settings import Settings

    loop = Loop()
    options = {k: v for k, v in server_options(Settings()).items() if k not in ("http", "host", "port")}
    protocol = BoundedHeadProtocol(uvicorn.Config(_app, **options), ServerState(), {}, _loop=loop)
    transport = Transport()
    protocol.connection_made(transport)
    protocol.on_response_complete()
    (idle,) = [t for t in loop.timers if not t.cancelled]
    assert idle.delay > 60
    idle.fire()
    assert transport.closed
