"""Several `serve` processes on one PostgreSQL database behind a round-robin, the whole flow
with 32 concurrent customers for a fixed time, and the races that must still have one winner.
Prints one JSON line.

    .venv/bin/python bench/cluster.py [--instances 2] [--users 32] [--seconds 30] [--database URL]

Without --database it starts a throwaway PostgreSQL cluster of its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx2

from _harness import Server
from tests.support.customer import Customer
from tests.support.postgres import ThrowawayPostgres, free_port


class RoundRobin(httpx2.HTTPTransport):
    """Each request goes to the next instance: a load balancer in a few lines."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__()
        self._ports = itertools.cycle(ports)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            port = next(self._ports)
        request.url = request.url.copy_with(port=port)
        return super().handle_request(request)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    cluster = None
    if args.database is None:
        cluster = ThrowawayPostgres()
        args.database = cluster.start().rsplit("/", 1)[0] + "/postgres"
    public_port = free_port()
    env = {"WEBVIEW_BRIDGE_PUBLIC_URL": f"http://127.0.0.1:{public_port}"}
    servers = [Server(args.database, core=None, extra_env=env)]  # the first one migrates
    servers += [Server(args.database, core=None, extra_env=env) for _ in range(args.instances - 1)]
    transport = RoundRobin([s.port for s in servers])
    base = f"http://127.0.0.1:{public_port}"
    try:
        tpp = servers[0].create_app("tpp", "https://tpp.example/callback")
        auth = (tpp["app_id"], tpp["app_secret"])
        api = httpx2.Client(base_url=base, transport=transport, timeout=60)
        token = api.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth).json()
        api.headers["Authorization"] = f"Bearer {token['access_token']}"
        body = {"resources": ["ACCOUNTS", "BALANCES"], "redirect_url": "https://tpp.example/callback", "ref_id": "c",
                "csrf_token": "c" * 32}

        # 1. the whole flow, 32 customers, for a fixed time; each request to the next instance
        latencies: list[float] = []
        errors = [0]
        deadline = time.monotonic() + args.seconds

        def customer_loop() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    created = api.post("/token-requests", json=body).json()
                    person = Customer(base, transport=RoundRobin([s.port for s in servers]))
                    back = person.run(created["url"])
                    person.close()
                    token_id = parse_qs(urlsplit(back.headers["location"]).query)["token-id"][0]
                    ok = api.get("/accounts", headers={"On-Behalf-Of": token_id}).status_code == 200
                except Exception:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[0] += 1

        started = time.monotonic()
        with ThreadPoolExecutor(args.users) as pool:
            for _ in range(args.users):
                pool.submit(customer_loop)
        elapsed = time.monotonic() - started

        # 2. 32 concurrent approvals of one request, through every instance: one token
        created = api.post("/token-requests", json=body).json()
        request_id = created["token_request"]["id"]
        person = Customer(base, transport=RoundRobin([s.port for s in servers]))
        entry = person.get(created["url"])
        to_bank = person.choose_bank(request_id, "sandbox", entry)
        page = person.get(person.back_from_bank(person.bank_login(to_bank, "alice")).headers["location"])
        form = {"csrf": person.csrf(page), "decision": "allow", "account_id": person.accounts(page)}
        cookies = dict(person.http.cookies)

        def allow(_: int) -> int:
            with httpx2.Client(base_url=base, transport=RoundRobin([s.port for s in servers]), cookies=cookies) as c:
                return c.post(f"/app/request-token/{request_id}/consent", data=form).status_code

        with ThreadPoolExecutor(32) as pool:
            approvals = list(pool.map(allow, range(32)))

        # 3. 32 concurrent refreshes of one refresh token: one winner
        family = api.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth).json()

        def refresh(_: int) -> int:
            with httpx2.Client(base_url=base, transport=RoundRobin([s.port for s in servers])) as c:
                return c.post("/oauth/token", auth=auth,
                              data={"grant_type": "refresh_token", "refresh_token": family["refresh_token"]}).status_code

        with ThreadPoolExecutor(32) as pool:
            refreshes = list(pool.map(refresh, range(32)))

        latencies.sort()
        print(json.dumps({
            "benchmark": "cluster",
            "instances": args.instances,
            "database": "postgresql",
            "users": args.users,
            "seconds": round(elapsed, 1),
            "flows": len(latencies),
            "flows_per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1) if latencies else None,
            "errors": errors[0],
            "concurrent_approvals_one_token": approvals.count(302) == 1,
            "concurrent_refreshes_one_winner": refreshes.count(200) == 1,
            "cross_instance_flows": True,
        }))
    finally:
        for server in servers:
            server.stop()
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
