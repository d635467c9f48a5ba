"""What the chosen parts cost before the product does anything, for the flow's exact request
sequence (bench/_workload.py): bare Starlette routes under uvicorn with `serve`'s settings
(httptools, uvloop, one core) that read the same bodies, answer the same number of bytes and make
the same calls to a bank — a stub in its own process that answers at once. No middleware,
database, templates, signing or logging. Prints one JSON line with server CPU ms per flow.

    .venv/bin/python bench/floor.py [--flows 100] [--rounds 5] [--concurrency 8]

Alone it answers the byte counts of one measured run of the product; bench/versus_floor.py
measures them in the same run and alternates floor and product rounds.
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ThreadPoolExecutor

from _harness import median_of_rounds
from _workload import Floor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    floor = Floor(concurrency=args.concurrency)
    try:
        def one_round() -> float:
            before = floor.cpu()
            list(pool.map(floor.one_flow, range(args.flows)))
            return (floor.cpu() - before) * 1000 / args.flows

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(floor.one_flow, range(20)))  # warm-up
            cpu_ms, rounds = median_of_rounds(args.rounds, one_round)
        print(json.dumps({
            "benchmark": "floor",
            "server": "uvicorn + Starlette routes, a stub bank",
            "flows": args.flows * args.rounds,
            "concurrency": args.concurrency,
            "server_cpu_ms_per_flow": round(cpu_ms, 2),
            "rounds_cpu_ms": [round(r, 2) for r in rounds],
        }))
    finally:
        floor.stop()


if __name__ == "__main__":
    main()
