"""A real uvicorn server on a free loopback port, in a thread of the test process,
so tests can share its injectable clock."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

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
