"""uvicorn against granian as the server, under the floor and under the product, in one run:
rounds of the four alternate, each the same flows (bench/_workload.py) at the same concurrency;
server CPU per flow counts a server's worker processes too. Prints one JSON line.

    pip install granian && .venv/bin/python bench/servers.py [--flows 60] [--rounds 3] [--concurrency 8]

`serve` runs uvicorn; the product runs under granian here through bench/_granian_app.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from concurrent.futures import ThreadPoolExecutor

from _workload import Floor, Product


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=60, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    sides = []
    try:
        sides.append(Product(concurrency=args.concurrency))
        wire = sides[0].measure_wire()
        sides.append(Product(concurrency=args.concurrency, server="granian"))
        sides.append(Floor(wire, args.concurrency))
        sides.append(Floor(wire, args.concurrency, server="granian"))
        cpu: dict[str, list[float]] = {side.name: [] for side in sides}
        errors = 0
        with ThreadPoolExecutor(args.concurrency) as pool:
            for side in sides:
                list(pool.map(side.one_flow, range(20)))
            for _ in range(args.rounds):
                for side in sides:
                    before = side.cpu()
                    outcomes = list(pool.map(side.one_flow, range(args.flows)))
                    cpu[side.name].append((side.cpu() - before) * 1000 / args.flows)
                    errors += sum(o[1] for o in outcomes)
        medians = {name: round(statistics.median(figures), 2) for name, figures in cpu.items()}
        print(json.dumps({
            "benchmark": "servers", "flows": args.flows * args.rounds, "concurrency": args.concurrency,
            "cpu_ms_per_flow": medians,
            "granian_over_uvicorn_product": round(medians["product under granian"] / medians["product"], 2),
            "granian_over_uvicorn_floor": round(medians["floor under granian"] / medians["floor"], 2),
            "errors": errors,
        }))
    finally:
        for side in sides:
            side.stop()


if __name__ == "__main__":
    main()
