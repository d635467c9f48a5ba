"""The whole flow over HTTP with N concurrent customers: store request -> pages -> 302 ->
result -> accounts, against a `serve` process pinned to one core on SQLite. Prints one JSON
line with flows per second and server CPU milliseconds per flow (the median of several rounds).

    .venv/bin/python bench/flow.py [--flows 100] [--rounds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx2

from _harness import Server, median_of_rounds
from tests.support.customer import Customer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    server = Server(args.database, core=0)
    try:
        tpp = server.create_app("tpp", "https://tpp.example/callback")
        token = httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(tpp["app_id"], tpp["app_secret"])).json()["access_token"]
        api = [httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) for _ in range(args.concurrency)]

        def one_flow(i: int) -> tuple[float, int]:
            started = time.perf_counter()
            client = api[i % len(api)]
            created = client.post("/token-requests", json={
                "resources": ["ACCOUNTS", "BALANCES", "TRANSACTIONS"], "redirect_url": "https://tpp.example/callback",
                "ref_id": f"flow-{i}", "csrf_token": "c" * 32}).json()
            customer = Customer(server.url)
            try:
                back = customer.run(created["url"])
            finally:
                customer.close()
            token_id = parse_qs(urlsplit(back.headers["location"]).query)["token-id"][0]
            result = client.get(f"/token-requests/{created['token_request']['id']}/result").json()
            accounts = client.get("/accounts", headers={"On-Behalf-Of": token_id})
            ok = result["token_id"] == token_id and accounts.status_code == 200
            return time.perf_counter() - started, 0 if ok else 1

        outcomes: list[tuple[float, int]] = []
        rates: list[float] = []

        def one_round() -> float:
            cpu_before, started = server.cpu(), time.perf_counter()
            outcomes.extend(pool.map(one_flow, range(args.flows)))
            elapsed, cpu_used = time.perf_counter() - started, server.cpu() - cpu_before
            rates.append(args.flows / elapsed)
            return cpu_used * 1000 / args.flows

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(one_flow, range(20)))  # warm-up
            cpu_ms, rounds = median_of_rounds(args.rounds, one_round)
        latencies = sorted(o[0] for o in outcomes)
        print(json.dumps({
            "benchmark": "flow",
            "database": "postgresql" if args.database and args.database.startswith("postgres") else "sqlite",
            "flows": args.flows * args.rounds,
            "concurrency": args.concurrency,
            "http_requests_per_flow": 10,
            "flows_per_second": round(statistics.median(rates), 1),
            "server_cpu_ms_per_flow": round(cpu_ms, 2),
            "rounds_cpu_ms": [round(r, 2) for r in rounds],
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "errors": sum(o[1] for o in outcomes),
        }))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
