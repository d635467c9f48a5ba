"""The whole flow over HTTP with N concurrent customers (the sequence in bench/_workload.py): the
server pinned to one core, the sandbox bank in a process of its own reached over HTTP. Prints one
JSON line: flows per second, server CPU milliseconds per flow (median of the rounds), p50 and p99.

    .venv/bin/python bench/flow.py [--flows 100] [--rounds 5] [--concurrency 8] [--database URL]

bench/versus_floor.py runs this and its floor alternately and prints their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from _harness import median_of_rounds
from _workload import Product


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    product = Product(args.database, args.concurrency)
    try:
        outcomes: list[tuple[float, int]] = []
        rates: list[float] = []

        def one_round() -> float:
            cpu_before, started = product.cpu(), time.perf_counter()
            outcomes.extend(pool.map(product.one_flow, range(args.flows)))
            elapsed, cpu_used = time.perf_counter() - started, product.cpu() - cpu_before
            rates.append(args.flows / elapsed)
            return cpu_used * 1000 / args.flows

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(product.one_flow, range(20)))  # warm-up
            cpu_ms, rounds = median_of_rounds(args.rounds, one_round)
        latencies = sorted(o[0] for o in outcomes)
        print(json.dumps({
            "benchmark": "flow",
            "database": "postgresql" if args.database and args.database.startswith("postgres") else "sqlite",
            "flows": args.flows * args.rounds,
            "concurrency": args.concurrency,
            "flows_per_second": round(statistics.median(rates), 1),
            "server_cpu_ms_per_flow": round(cpu_ms, 2),
            "rounds_cpu_ms": [round(r, 2) for r in rounds],
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000, 1),
            "errors": sum(o[1] for o in outcomes),
        }))
    finally:
        product.stop()


if __name__ == "__main__":
    main()
