"""Tokens per second from POST /oauth/token (client_credentials) and the server's CPU
milliseconds per token, with the server pinned to one core on SQLite, against its floor: one bare
POST (a Starlette route that reads the form and answers as many bytes) under the same uvicorn
settings, rounds alternating. Medians of the rounds and their ratio, in one JSON line.

    .venv/bin/python bench/token_endpoint.py [--tokens 2000] [--rounds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2

from _harness import Server, cpu_seconds, wait_until_up
from tests.support.postgres import free_port


def bare_post(port: int, size: int) -> None:
    """The floor: a bare Starlette route under `serve`'s uvicorn settings, in this child process."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = json.dumps({"pad": "x" * max(size - 12, 0)}).encode()

    async def token(request: Request) -> Response:
        await request.form()
        return Response(body, media_type="application/json")

    uvicorn.run(Starlette(routes=[Route("/oauth/token", token, methods=["POST"])]), host="127.0.0.1", port=port,
                access_log=False, server_header=False, log_level="warning", http="httptools", loop="uvloop")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--serve", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return bare_post(*args.serve)
    os.sched_setaffinity(0, {1})  # the load generator keeps off the server's core
    server = Server(core=0)
    floor = None
    try:
        creds = server.create_app("tpp")
        auth = (creds["app_id"], creds["app_secret"])
        clients = [httpx2.Client(base_url=server.url, auth=auth) for _ in range(args.concurrency)]
        size = clients[0].post("/oauth/token", data={"grant_type": "client_credentials"}).num_bytes_downloaded
        port = free_port()
        floor = subprocess.Popen(["taskset", "-c", "0", sys.executable, __file__, "--serve", str(port), str(size)])
        floor_url = f"http://127.0.0.1:{port}"
        wait_until_up(floor_url + "/", floor)
        bare = [httpx2.Client(base_url=floor_url, auth=auth) for _ in range(args.concurrency)]
        errors = 0
        rates: list[float] = []

        def fetch(pair: tuple[list[httpx2.Client], int]) -> int:
            group, i = pair
            return group[i % len(group)].post("/oauth/token", data={"grant_type": "client_credentials"}).status_code

        def one_round(group: list[httpx2.Client], cpu) -> float:
            nonlocal errors
            cpu_before, started = cpu(), time.perf_counter()
            statuses = list(pool.map(fetch, [(group, i) for i in range(args.tokens)]))
            elapsed, cpu_used = time.perf_counter() - started, cpu() - cpu_before
            errors += sum(1 for s in statuses if s != 200)
            if group is clients:
                rates.append(args.tokens / elapsed)
            return cpu_used * 1000 / args.tokens

        product_ms, floor_ms = [], []
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(fetch, [(clients, i) for i in range(args.warmup)]))
            list(pool.map(fetch, [(bare, i) for i in range(args.warmup)]))
            for _ in range(args.rounds):
                product_ms.append(one_round(clients, server.cpu))
                floor_ms.append(one_round(bare, lambda: cpu_seconds(floor.pid)))
        cpu_ms, floor_median = statistics.median(product_ms), statistics.median(floor_ms)
        print(json.dumps({
            "benchmark": "token_endpoint",
            "database": "sqlite",
            "tokens": args.tokens * args.rounds,
            "concurrency": args.concurrency,
            "tokens_per_second": round(statistics.median(rates), 1),
            "server_cpu_ms_per_token": round(cpu_ms, 3),
            "floor_cpu_ms_per_post": round(floor_median, 3),
            "ratio": round(cpu_ms / floor_median, 2),
            "rounds_cpu_ms": [round(r, 3) for r in product_ms],
            "floor_rounds_cpu_ms": [round(r, 3) for r in floor_ms],
            "errors": errors,
        }))
    finally:
        if floor:
            floor.kill()
            floor.wait()
        server.stop()


if __name__ == "__main__":
    main()
