"""RSS of one `serve` process across many flows: it must stay flat (within 10 %) from flow 1,000
to the last. Prints one JSON line.

    .venv/bin/python bench/memory.py [--flows 20000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2

from _harness import Server
from tests.support.customer import Customer


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
    server = Server(core=0)
    try:
        tpp = server.create_app("tpp", "https://tpp.example/callback")
        token = httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(tpp["app_id"], tpp["app_secret"])).json()["access_token"]
        api = httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        body = {"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": "m", "csrf_token": "c" * 32}
        samples: dict[int, int] = {}

        def flow(i: int) -> None:
            created = api.post("/token-requests", json=body).json()
            person = Customer(server.url)
            person.run(created["url"])
            person.close()
            if (i + 1) % 1000 == 0:
                samples[i + 1] = rss_kib(server.proc.pid)

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(flow, range(args.flows)))
        first = samples.get(1000) or min(samples.items())[1]
        last = samples[max(samples)]
        print(json.dumps({"benchmark": "memory", "flows": args.flows, "rss_kib_at_1000": first, "rss_kib_at_end": last,
                          "growth_percent": round((last - first) * 100 / first, 1), "samples": samples}))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
