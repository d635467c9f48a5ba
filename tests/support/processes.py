"""Run the real CLI and real `serve` processes, as an operator would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from tests.support.postgres import free_port


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webview_bridge", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def cli_json(*args: str) -> Any:
    done = cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class ServeProcess:
    """`webview-bridge serve` in its own process, so it can be killed with SIGKILL."""

    def __init__(self, database_url: str, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Logs go to a file: a pipe nobody reads fills up and stalls the server mid-run.
        self.log = tempfile.NamedTemporaryFile(prefix="wvb-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webview_bridge", "serve", "--port", str(self.port), "--database", database_url, *extra],
            stdout=subprocess.DEVNULL, stderr=self.log, env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx2.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("serve did not answer /healthz in 30 s")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
