"""Tokens per second from POST /oauth/token (client_credentials) and the server's CPU
milliseconds per token, with the server pinned to one core on SQLite. Prints one JSON line.

    .venv/bin/python bench/token_endpoint.py [--tokens 3000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from _harness import Server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})  # the load generator keeps off the server's core
    server = Server(core=0)
    try:
        creds = server.create_app("tpp")
        auth = (creds["app_id"], creds["app_secret"])
        clients = [httpx.Client(base_url=server.url, auth=auth) for _ in range(args.concurrency)]

        def fetch(i: int) -> int:
            return clients[i % len(clients)].post("/oauth/token", data={"grant_type": "client_credentials"}).status_code

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(fetch, range(args.warmup)))
            cpu_before, started = server.cpu(), time.perf_counter()
            statuses = list(pool.map(fetch, range(args.tokens)))
            elapsed, cpu_used = time.perf_counter() - started, server.cpu() - cpu_before
        errors = sum(1 for s in statuses if s != 200)
        print(json.dumps({
            "benchmark": "token_endpoint",
            "database": "sqlite",
            "tokens": args.tokens,
            "concurrency": args.concurrency,
            "tokens_per_second": round(args.tokens / elapsed, 1),
            "server_cpu_ms_per_token": round(cpu_used * 1000 / args.tokens, 3),
            "errors": errors,
        }))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
