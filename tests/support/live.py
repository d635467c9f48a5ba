"""A real uvicorn server on a free loopback port, in a thread of the test process,
so tests can share its injectable clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2

import uvicorn
from starlette.applications import Starlette

from tests.support.postgres import free_port


@dataclass
class LiveServer:
    app: Starlette
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def runtime(self):
        return self.app.state.runtime

    @property
    def loop(self):
        """The server's event loop, where its async work (the worker, the banks' clients) must run."""
        return self.server.servers[0].get_loop()

    def run(self, coroutine, timeout: float = 30):
        """Run a coroutine on the server's loop and wait for its result."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_live_server(app: Starlette, port: int | None = None) -> LiveServer:
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    return LiveServer(app, f"http://127.0.0.1:{port}", server, thread)


@contextmanager
def serving(app: Starlette) -> Iterator[httpx2.Client]:
    """A client of `app` served for the length of a `with` block (tests that build their own app)."""
    live = start_live_server(app)
    try:
        with httpx2.Client(base_url=live.url, timeout=30) as client:
            yield client
    finally:
        live.stop()
