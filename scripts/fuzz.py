#!/usr/bin/env python3
"""Fuzz every JSON endpoint with schemathesis against real `serve` processes, authenticated.

    .venv/bin/python scripts/fuzz.py                                   # SQLite, 500 examples per operation
    .venv/bin/python scripts/fuzz.py --database postgresql             # a throwaway PostgreSQL cluster
    .venv/bin/python scripts/fuzz.py --database postgresql --instances 2   # two instances behind a round-robin
    .venv/bin/python scripts/fuzz.py --max-examples 8 --seed 1        # the quick fixed-seed run inside `make test`

--database takes `sqlite` (a new file), `postgresql` (a throwaway cluster) or a URL. Several
instances need PostgreSQL, as several `serve` processes do (PROTOCOL §10); each request then goes
to the next instance, so whatever one instance wrote another must read right.

Checks: no 5xx, every status and content type documented, every response matching its schema.
Prints one JSON line; exit status is schemathesis's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.live import start_live_server  # noqa: E402
from tests.support.postgres import ThrowawayPostgres, free_port  # noqa: E402
from tests.support.processes import ServeProcess, cli_json  # noqa: E402

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection"
BANK_PATHS = r"^/(customers|client-tokens/.*|activations)$"
# Headers that describe one hop, not the message (RFC 9110 §7.6.1): a proxy does not pass them on.
_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade", b"proxy-connection"}


class RoundRobin:
    """A reverse proxy in a few lines: each request to the next instance, as a load balancer would."""

    def __init__(self, backends: list[str]) -> None:
        self._backends = itertools.cycle(backends)
        self._client: httpx2.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if self._client is None:
            self._client = httpx2.AsyncClient(timeout=60)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        url = next(self._backends) + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP | {b"host", b"content-length"}]
        request = self._client.build_request(scope["method"], url, headers=headers, content=body)
        response = await self._client.send(request, stream=True)
        try:
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP]})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


def _database(choice: str | None, folder: str) -> tuple[str, ThrowawayPostgres | None]:
    if choice in (None, "sqlite"):
        return f"sqlite:///{folder}/fuzz.db", None
    if choice == "postgresql":
        cluster = ThrowawayPostgres()
        return cluster.start(), cluster
    return choice, None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database", default=None, help="sqlite (default), postgresql, or a database URL")
    parser.add_argument("--instances", type=int, default=1, help="serve processes behind a round-robin (PostgreSQL)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="wvb-fuzz-")
    database, cluster = _database(args.database, folder)
    kind = "sqlite" if database.startswith("sqlite") else "postgresql"
    if args.instances > 1 and kind == "sqlite":
        parser.error("several instances need PostgreSQL: --database postgresql")
    limits_off = {"WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_API": "0",
                  "WEBVIEW_BRIDGE_RATE_LIMIT_PAGES": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN_FAILURES": "0"}
    servers: list[ServeProcess] = []
    proxy = None
    status = 0
    try:
        tpp = cli_json("apps", "create", "--database", database, "--name", "Fuzz TPP", "--role", "tpp",
                       "--redirect-url", "https://tpp.example/callback")
        bank = cli_json("apps", "create", "--database", database, "--name", "Fuzz bank", "--role", "bank",
                        "--bank-id", "sandbox", "--independent-activation")
        public_port = free_port()
        env = {**limits_off, "WEBVIEW_BRIDGE_PUBLIC_URL": f"http://127.0.0.1:{public_port}"} if args.instances > 1 else limits_off
        servers = [ServeProcess(database, env=env) for _ in range(args.instances)]
        if args.instances > 1:
            proxy = start_live_server(RoundRobin([s.url for s in servers]), public_port)  # type: ignore[arg-type]
            base_url = proxy.url
        else:
            base_url = servers[0].url

        def token(creds: dict) -> str:
            return httpx2.post(base_url + "/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(creds["app_id"], creds["app_secret"])).json()["access_token"]

        common = ["--checks", CHECKS, "--max-examples", str(args.max_examples), "--request-timeout", "30",
                  "--suppress-health-check", "all", "--workers", "2"]
        if args.seed is not None:
            common += ["--seed", str(args.seed), "--generation-deterministic"]
        runs = [
            ["--exclude-path-regex", BANK_PATHS, "-H", f"Authorization: Bearer {token(tpp)}"],
            ["--include-path-regex", r"^/(customers|client-tokens/.*)$", "-H", f"Authorization: Bearer {token(bank)}"],
        ]
        cases = 0
        for extra in runs:
            command = [str(Path(sys.executable).parent / "schemathesis"), "run", base_url + "/openapi.json", *common, *extra]
            done = subprocess.run(command, env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"},
                                  stdout=subprocess.PIPE, text=True)
            print(done.stdout, end="")
            cases += _cases(done.stdout)
            status = status or done.returncode
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers:
            server.kill()
        if cluster is not None:
            cluster.stop()
    print(json.dumps({"fuzz": "schemathesis", "database": kind, "instances": args.instances,
                      "max_examples_per_operation": args.max_examples, "test_cases": cases, "exit_status": status}))
    return status


def _cases(report: str) -> int:
    """The number of test cases schemathesis says it generated."""
    found = re.findall(r"(\d+) (?:generated|test cases)", report)
    return int(found[-1]) if found else 0


if __name__ == "__main__":
    sys.exit(main())
