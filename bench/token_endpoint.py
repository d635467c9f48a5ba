"""Tokens per second from POST /oauth/token (client_credentials) and the server's CPU
milliseconds per token, with the server pinned to one core on SQLite: the median of several
rounds. Prints one JSON line.

    .venv/bin/python bench/token_endpoint.py [--tokens 2000] [--rounds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2

from _harness import Server, median_of_rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})  # the load generator keeps off the server's core
    server = Server(core=0)
    try:
        creds = server.create_app("tpp")
        auth = (creds["app_id"], creds["app_secret"])
        clients = [httpx2.Client(base_url=server.url, auth=auth) for _ in range(args.concurrency)]

        def fetch(i: int) -> int:
            return clients[i % len(clients)].post("/oauth/token", data={"grant_type": "client_credentials"}).status_code

        errors = 0
        rates: list[float] = []

        def one_round() -> float:
            nonlocal errors
            cpu_before, started = server.cpu(), time.perf_counter()
            statuses = list(pool.map(fetch, range(args.tokens)))
            elapsed, cpu_used = time.perf_counter() - started, server.cpu() - cpu_before
            errors += sum(1 for s in statuses if s != 200)
            rates.append(args.tokens / elapsed)
            return cpu_used * 1000 / args.tokens

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(fetch, range(args.warmup)))
            cpu_ms, rounds = median_of_rounds(args.rounds, one_round)
        print(json.dumps({
            "benchmark": "token_endpoint",
            "database": "sqlite",
            "tokens": args.tokens * args.rounds,
            "concurrency": args.concurrency,
            "tokens_per_second": round(statistics.median(rates), 1),
            "server_cpu_ms_per_token": round(cpu_ms, 3),
            "rounds_cpu_ms": [round(r, 3) for r in rounds],
            "errors": errors,
        }))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
