"""The whole flow against its floor, in one run so this machine's drift cancels out: rounds of
the product and of the floor alternate (product, floor, product, …), each the same number of flows
at the same concurrency, and the line printed gives server CPU per flow for both (medians of the
rounds) and their ratio. The floor answers as many bytes per step as the product did in this run.
Each side's bank runs on the load's core and is not counted; its CPU per flow is printed beside.
So is the part of each side's CPU spent off its event loop: on PostgreSQL, the database threads'.

    .venv/bin/python bench/versus_floor.py [--flows 100] [--rounds 5] [--concurrency 8] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from concurrent.futures import ThreadPoolExecutor

from _workload import Floor, Product
from tests.support.postgres import ThrowawayPostgres


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", default=None,
                        help="the product's database: a URL, `postgresql` for a throwaway local server, or a fresh SQLite file")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    postgres = None
    if args.database == "postgresql":
        postgres = ThrowawayPostgres()
        args.database = postgres.start().rsplit("/", 1)[0] + "/postgres"
    product = Product(args.database, args.concurrency)
    floor = None
    try:
        wire = product.measure_wire()
        floor = Floor(wire, args.concurrency)
        cpu: dict[str, list[float]] = {"product": [], "floor": []}
        bank_cpu: dict[str, list[float]] = {"product": [], "floor": []}
        latencies: dict[str, list[float]] = {"product": [], "floor": []}
        errors = {"product": 0, "floor": 0}
        off_loop: dict[str, list[float]] = {"product": [], "floor": []}
        with ThreadPoolExecutor(args.concurrency) as pool:
            for side in (product, floor):
                list(pool.map(side.one_flow, range(20)))  # warm-up
            for _ in range(args.rounds):
                for side in (product, floor):
                    before, loop_before, bank_before = side.cpu(), side.loop_cpu(), side.bank_cpu()
                    outcomes = list(pool.map(side.one_flow, range(args.flows)))
                    cpu[side.name].append((side.cpu() - before) * 1000 / args.flows)
                    off_loop[side.name].append(cpu[side.name][-1] - (side.loop_cpu() - loop_before) * 1000 / args.flows)
                    bank_cpu[side.name].append((side.bank_cpu() - bank_before) * 1000 / args.flows)
                    latencies[side.name] += [o[0] for o in outcomes]
                    errors[side.name] += sum(o[1] for o in outcomes)
        product_ms, floor_ms = statistics.median(cpu["product"]), statistics.median(cpu["floor"])

        def p(name: str, q: float) -> float:
            ordered = sorted(latencies[name])
            return round(ordered[max(int(len(ordered) * q) - 1, 0)] * 1000, 1)

        print(json.dumps({
            "benchmark": "flow_versus_floor",
            "database": "postgresql" if args.database and args.database.startswith("postgres") else "sqlite",
            "flows": args.flows * args.rounds, "concurrency": args.concurrency,
            "product_cpu_ms_per_flow": round(product_ms, 2), "floor_cpu_ms_per_flow": round(floor_ms, 2),
            "ratio": round(product_ms / floor_ms, 2),
            "product_rounds_ms": [round(r, 2) for r in cpu["product"]],
            "floor_rounds_ms": [round(r, 2) for r in cpu["floor"]],
            "product_p50_ms": p("product", 0.5), "product_p99_ms": p("product", 0.99),
            "floor_p99_ms": p("floor", 0.99),
            "off_loop_cpu_ms_per_flow": {name: round(statistics.median(rounds), 2) for name, rounds in off_loop.items()},
            "bank_cpu_ms_per_flow": {name: round(statistics.median(rounds), 2) for name, rounds in bank_cpu.items()},
            "wire_bytes": wire, "errors": errors,
        }))
    finally:
        if floor:
            floor.stop()
        product.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
