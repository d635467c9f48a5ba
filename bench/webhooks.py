"""Webhook delivery against `serve` on one core with its worker, and a receiver on loopback that
verifies every signature with the standardwebhooks library. Each event is a customer denying a
token request (token_request.rejected). Two figures, one JSON line:

- delivered_per_second: a backlog of events made while the worker was off, drained by a server
  started with it on (delivery capacity, not limited by how fast events are made);
- p50/p99 from change to delivery: events made live, from the moment the customer's deny was
  acknowledged to the moment the receiver had verified its webhook.

    .venv/bin/python bench/webhooks.py [--events 300] [--concurrency 8] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2

from _harness import Server
from tests.support.customer import Customer
from tests.support.receiver import Receiver


def _deny(server_url: str, headers: dict, n: int) -> tuple[str, float]:
    created = httpx2.post(server_url + "/token-requests", headers=headers, json={
        "resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": f"w-{n}",
        "csrf_token": "c" * 32}).json()
    person = Customer(server_url)
    try:
        entry = person.get(created["url"])
        person.http.post(f"/app/request-token/{created['token_request']['id']}/exit",
                         data={"csrf": person.csrf(entry), "error": "access_denied"})
        return created["token_request"]["id"], time.time()
    finally:
        person.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    receiver = Receiver()
    arrivals: dict[str, float] = {}  # request id -> when its event was verified
    lock = threading.Lock()

    def arrived(event: dict) -> None:
        with lock:
            arrivals[event["data"]["request_id"]] = time.time()

    receiver.on_event = arrived

    def wait_for(count: int) -> None:
        deadline = time.time() + 180
        while len(arrivals) < count and time.time() < deadline:
            time.sleep(0.01)

    quiet = Server(args.database, core=0, extra_env={"WEBVIEW_BRIDGE_WORKER": "0"})
    database = quiet.database_url
    try:
        tpp = quiet.create_app("tpp", "https://tpp.example/callback")
        token = httpx2.post(quiet.url + "/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(tpp["app_id"], tpp["app_secret"])).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        receiver.secret = httpx2.post(quiet.url + "/webhooks", headers=headers, json={"url": receiver.url}).json()["webhook"]["secret"]
        with ThreadPoolExecutor(args.concurrency) as pool:  # the backlog: made while no worker runs
            list(pool.map(lambda n: _deny(quiet.url, headers, n), range(args.events)))
    finally:
        quiet.stop()
    live = Server(database, core=0)
    try:
        wait_for(args.events)
        backlog = len(arrivals)
        drained = max(arrivals.values()) - min(arrivals.values())  # first delivery to last
        acked: dict[str, float] = {}
        with ThreadPoolExecutor(args.concurrency) as pool:
            for request_id, at in pool.map(lambda n: _deny(live.url, headers, args.events + n), range(args.events)):
                acked[request_id] = at
        wait_for(2 * args.events)
        latencies = sorted(max(0.0, arrivals[r] - acked[r]) for r in acked if r in arrivals)
        print(json.dumps({
            "benchmark": "webhooks",
            "database": "postgresql" if database.startswith("postgres") else "sqlite",
            "events": 2 * args.events, "delivered": len(arrivals), "duplicates": len(receiver.received) - len(arrivals),
            "refused_signatures": len(receiver.refused),
            "delivered_per_second": round(backlog / drained, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1),
        }))
    finally:
        receiver.close()
        live.stop()


if __name__ == "__main__":
    main()
