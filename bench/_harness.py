"""Shared by the benchmarks: a real `serve` process pinned to one core, and its CPU time."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import free_port  # noqa: E402


def cpu_split(pid: int, thread: int | None = None) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, or of one of its threads, from /proc (Linux)."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def loop_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process's main thread alone: a server's event loop, without its other
    threads (on PostgreSQL, the database's)."""
    return sum(cpu_split(pid, thread=pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of the processes it started (a server's workers)."""
    total = sum(cpu_split(pid))
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


def granian(app: str, port: int) -> list[str]:
    """The command that serves an ASGI factory with granian, one worker, as `serve` runs uvicorn."""
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port",
            str(port), "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--no-ws", "--log-level",
            "warning", "--working-dir", str(ROOT / "bench"), app]


# One key for the server and the sandbox bank beside it, so pages one signs the other accepts.
KEYS = "bench-" + "k" * 40


def wait_until_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx2.get(url, timeout=1)
            return
        except httpx2.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.05)


class SandboxBank:
    """`webview-bridge sandbox-bank` in its own process and database: the bank a flow reaches over
    HTTP, as a real bank, whose CPU is not the server's."""

    def __init__(self, core: int | None = 1) -> None:
        self.folder = tempfile.mkdtemp(prefix="wvb-bench-bank-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/sandbox-bank"
        self.proc = subprocess.Popen(
            [*(["taskset", "-c", str(core)] if core is not None else []), sys.executable, "-m", "webview_bridge",
             "sandbox-bank", "--port", str(self.port), "--database", f"sqlite:///{self.folder}/bank.db"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder,
            env={**os.environ, "WEBVIEW_BRIDGE_SECRET_KEYS": KEYS},
        )
        wait_until_up(self.url + "/sandbox/v1/consents/none/status", self.proc)

    def directory(self, folder: str) -> str:
        """A directory file whose "sandbox" bank is this process, reached as any xs2a bank."""
        path = Path(folder) / "banks.json"
        path.write_text(json.dumps({"banks": [{
            "id": "sandbox", "name": "Sandbox Bank", "bic": "SNDBGB2L", "countries": ["GB"],
            "supports_account_details_api": True, "supports_balance": True, "supports_transactions_date_filter": True,
            "supports_information": True, "connector": {"type": "xs2a", "base_url": self.url + "/sandbox"},
        }]}))
        return str(path)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Server:
    def __init__(self, database_url: str | None = None, core: int | None = 0, extra_env: dict | None = None,
                 bank: SandboxBank | None = None, server: str = "uvicorn") -> None:
        self.folder = tempfile.mkdtemp(prefix="wvb-bench-")
        self.database_url = database_url or f"sqlite:///{self.folder}/bench.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        banks = ["--banks", bank.directory(self.folder)] if bank else []
        # Benchmarks measure throughput, not the rate limiter.
        self.env = {**os.environ, "WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_API": "0",
                    "WEBVIEW_BRIDGE_RATE_LIMIT_PAGES": "0", **({"WEBVIEW_BRIDGE_SECRET_KEYS": KEYS} if bank else {}),
                    **(extra_env or {})}
        command = [sys.executable, "-m", "webview_bridge", "serve", "--port", str(self.port), "--database",
                   self.database_url, *banks]
        if server == "granian":  # the same app under another server (bench/servers.py); `serve` runs uvicorn
            self.env.update({"WEBVIEW_BRIDGE_DATABASE_URL": self.database_url, "WEBVIEW_BRIDGE_PUBLIC_URL": self.url,
                             **({"WEBVIEW_BRIDGE_BANKS": banks[1]} if banks else {})})
            subprocess.run([sys.executable, "-m", "webview_bridge", "db", "upgrade", "--database", self.database_url],
                           env=self.env, check=False, capture_output=True)
            command = granian("_granian_app:app", self.port)
        self.proc = subprocess.Popen(
            [*(["taskset", "-c", str(core)] if core is not None else []), *command],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder, env=self.env,
        )
        wait_until_up(self.url + "/healthz", self.proc)

    def create_app(self, role: str, *redirect_urls: str) -> dict:
        args = [sys.executable, "-m", "webview_bridge", "apps", "create", "--database", self.database_url,
                "--name", f"bench {role}", "--role", role, "--json"]
        for url in redirect_urls:
            args += ["--redirect-url", url]
        return json.loads(subprocess.run(args, check=True, capture_output=True, text=True, env=self.env).stdout)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def loop_cpu(self) -> float:
        return loop_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def median_of_rounds(rounds: int, measure) -> tuple[float, list[float]]:
    """Run `measure` (which returns one figure) several times: the median, and every round's figure.
    A shared VM's neighbours make single runs vary by a third; the median of five does not."""
    figures = [measure() for _ in range(rounds)]
    return statistics.median(figures), figures
