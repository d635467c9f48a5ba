"""RSS of one `serve` process across many whole flows (bench/_workload.py, the sandbox bank in its
own process): it must stay flat (within 10 %) from flow 1,000 to the last. Prints one JSON line.

    .venv/bin/python bench/memory.py [--flows 20000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _workload import Product


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    product = Product(concurrency=args.concurrency)
    try:
        samples: dict[int, int] = {}
        errors = 0

        def flow(i: int) -> None:
            nonlocal errors
            errors += product.one_flow(i)[1]
            if (i + 1) % 1000 == 0:
                samples[i + 1] = rss_kib(product.proc.pid)

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(flow, range(args.flows)))
        first = samples.get(1000) or min(samples.items())[1]
        last = samples[max(samples)]
        print(json.dumps({"benchmark": "memory", "flows": args.flows, "rss_kib_at_1000": first, "rss_kib_at_end": last,
                          "growth_percent": round((last - first) * 100 / first, 1), "errors": errors,
                          "samples": dict(sorted(samples.items()))}))
    finally:
        product.stop()


if __name__ == "__main__":
    main()
