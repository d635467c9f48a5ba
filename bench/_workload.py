"""The whole flow as a benchmark drives it, twice: against the product (`serve` with its sandbox bank
in a process of its own, reached over HTTP as any Berlin Group bank) and against its floor (bare
Starlette routes under the same server settings that make the same requests, answer the same
number of bytes and make the same calls to a bank that answers at once). Both run the server
pinned to core 0; the load and the bank run on core 1 and are not counted.

The sequence, per flow, as the product serves it:

    TPP       POST /token-requests                    (kept connection)
    customer  GET  /app/request-token/{rq}            bank selection     (a new connection)
              POST /app/request-token/{rq}/bank       302
              GET  /app/request-token/{rq}/consent    our consent screen
              POST /app/request-token/{rq}/consent    302 to the bank    -> bank: POST /v1/consents
              ... the bank's login and consent pages (the bank's process) ...
              GET  /app/bank-callback?state=…         302 to the TPP     -> bank: GET status, then consent,
                                                                            accounts, card-accounts at once
    TPP       GET  /token-requests/{rq}/result
              GET  /accounts  (On-Behalf-Of)                             -> bank: GET accounts, card-accounts
                                                                            at once
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2

from _harness import SandboxBank, Server, cpu_seconds, granian, loop_cpu_seconds, wait_until_up
from tests.support.customer import Customer
from tests.support.postgres import free_port
from webview_bridge.serving import KEEP_ALIVE_SECONDS

CALLBACK = "https://tpp.example/callback"
STEPS = ("store", "select", "choose", "consent", "allow", "callback", "result", "accounts")
# Bytes on the wire per step when the product has not been measured in the same run (bench/floor.py
# alone): what the product sent in one measured run.
WIRE = {"store": 671, "select": 5345, "choose": 0, "consent": 5453, "allow": 0, "callback": 0, "result": 102,
        "accounts": 1110}
# What the bank answers each call with, in bytes: about what the sandbox bank sends for alice.
BANK = {"consents": 420, "status": 40, "consent": 640, "accounts": 1500, "card-accounts": 240}


def request_body(i: int) -> dict:
    return {"resources": ["ACCOUNTS", "BALANCES", "TRANSACTIONS"], "redirect_url": CALLBACK,
            "ref_id": f"flow-{i}", "csrf_token": "c" * 32}


def _step(method: str, url: str) -> str | None:
    path = urlsplit(url).path
    if path == "/token-requests" and method == "POST":
        return "store"
    if path.startswith("/app/request-token/"):
        tail = path.rsplit("/", 1)[-1]
        if tail == "bank":
            return "choose"
        if tail == "consent":
            return "consent" if method == "GET" else "allow"
        return "select"
    if path == "/app/bank-callback":
        return "callback"
    if path.endswith("/result"):
        return "result"
    if path == "/accounts":
        return "accounts"
    return None


class Product:
    name = "product"

    def __init__(self, database_url: str | None = None, concurrency: int = 8, server: str = "uvicorn") -> None:
        self.name = "product" if server == "uvicorn" else f"product under {server}"
        self.bank = SandboxBank(core=1)
        self.server = Server(database_url, core=0, bank=self.bank, server=server)
        self.proc = self.server.proc
        tpp = self.server.create_app("tpp", CALLBACK)
        token = httpx2.post(self.server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(tpp["app_id"], tpp["app_secret"])).json()["access_token"]
        self.api = [httpx2.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
                    for _ in range(concurrency)]
        self.wire: dict[str, int] = {}

    def one_flow(self, i: int, measure_wire: bool = False) -> tuple[float, int]:
        started = time.perf_counter()
        client = self.api[i % len(self.api)]
        created = client.post("/token-requests", json=request_body(i))
        customer = Customer(self.server.url)
        if measure_wire:
            self._record(created)
            sent = customer.http.request

            def request(method, url, *args, **kwargs):
                answer = sent(method, url, *args, **kwargs)
                self._record(answer)
                return answer

            customer.http.request = request
        try:
            back = customer.run(created.json()["url"])
        finally:
            customer.close()
        token_id = parse_qs(urlsplit(back.headers["location"]).query)["token-id"][0]
        result = client.get(f"/token-requests/{created.json()['token_request']['id']}/result")
        accounts = client.get("/accounts", headers={"On-Behalf-Of": token_id})
        if measure_wire:
            self._record(result)
            self._record(accounts)
        ok = result.json()["token_id"] == token_id and accounts.status_code == 200
        return time.perf_counter() - started, 0 if ok else 1

    def _record(self, answer: httpx2.Response) -> None:
        step = _step(answer.request.method, str(answer.request.url))
        if step and str(answer.request.url).startswith(self.server.url):
            self.wire[step] = answer.num_bytes_downloaded

    def measure_wire(self) -> dict[str, int]:
        self.one_flow(-1, measure_wire=True)
        return dict(self.wire)

    def cpu(self) -> float:
        return self.server.cpu()

    def loop_cpu(self) -> float:
        return self.server.loop_cpu()

    def bank_cpu(self) -> float:
        return cpu_seconds(self.bank.proc.pid)

    def stop(self) -> None:
        for client in self.api:
            client.close()
        self.server.stop()
        self.bank.stop()


# --- the floor --------------------------------------------------------------------------------

def floor_app(bank_url: str, wire: dict[str, int]):
    """Bare Starlette routes: read what the product reads, call the bank as often as the product
    does (one pooled async client, as the connector), answer as many bytes as the product did."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Route

    bank = httpx2.AsyncClient(base_url=bank_url, timeout=10)

    def page(step: str):
        body = b"<!doctype html>" + b"x" * max(wire[step] - 15, 0)

        async def answer(request: Request) -> Response:
            return Response(body, media_type="text/html")
        return answer

    def data(step: str, status: int = 200):
        body = json.dumps({"pad": "x" * max(wire[step] - 12, 0)}).encode()

        async def answer(request: Request) -> Response:
            if request.method == "POST":
                await request.json()
            if step == "accounts":
                await asyncio.gather(bank.get("/v1/accounts"), bank.get("/v1/card-accounts"))
            return Response(body, status_code=status, media_type="application/json")
        return answer

    async def choose(request: Request) -> Response:
        await request.form()
        return RedirectResponse(f"/app/request-token/{request.path_params['rq']}/consent", status_code=302)

    async def allow(request: Request) -> Response:
        await request.form()
        started = (await bank.post("/v1/consents", json={"access": {"allPsd2": "allAccounts"}, "validUntil": "2027-03-01",
                                                         "frequencyPerDay": 4, "recurringIndicator": True,
                                                         "combinedServiceIndicator": False})).json()
        return RedirectResponse(started["_links"]["scaRedirect"]["href"], status_code=302)

    async def callback(request: Request) -> Response:
        await bank.get("/v1/consents/c/status")
        await asyncio.gather(bank.get("/v1/consents/c"), bank.get("/v1/accounts"), bank.get("/v1/card-accounts"))
        state = "s" * 180
        return RedirectResponse(f"{CALLBACK}?request-id=rq_{'r' * 22}&token-id=tt_{'t' * 22}&state={state}", status_code=302)

    return Starlette(routes=[
        Route("/token-requests", data("store", 201), methods=["POST"]),
        Route("/app/request-token/{rq}", page("select"), methods=["GET"]),
        Route("/app/request-token/{rq}/bank", choose, methods=["POST"]),
        Route("/app/request-token/{rq}/consent", page("consent"), methods=["GET"]),
        Route("/app/request-token/{rq}/consent", allow, methods=["POST"]),
        Route("/app/bank-callback", callback, methods=["GET"]),
        Route("/token-requests/{rq}/result", data("result"), methods=["GET"]),
        Route("/accounts", data("accounts"), methods=["GET"]),
    ])


def stub_bank(floor_url: str):
    """A bank that answers at once: fixed JSON for the API, bare pages and redirects for the customer."""
    def json_of(size: int, extra: dict | None = None) -> bytes:
        return json.dumps({**(extra or {}), "pad": "x" * size}).encode()

    answers = {
        "consents": json_of(BANK["consents"], {"consentId": "c", "consentStatus": "received",
                                               "_links": {"scaRedirect": {"href": "/authorise/a"}}}),
        "status": json_of(BANK["status"], {"consentStatus": "valid"}),
        "consent": json_of(BANK["consent"]),
        "accounts": json_of(BANK["accounts"]),
        "card-accounts": json_of(BANK["card-accounts"]),
    }
    page = b"<!doctype html>" + b"x" * 4000
    back = f"{floor_url}/app/bank-callback?state={'s' * 120}".encode()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        path, method = scope["path"], scope["method"]
        headers = [(b"content-type", b"application/json")]
        status = 200
        if path.startswith("/authorise"):
            if method == "GET":
                status, headers, body = 200, [(b"content-type", b"text/html")], page
            elif path.endswith("/login"):
                status, headers, body = 303, [(b"location", b"/authorise/a")], b""
            else:
                status, headers, body = 302, [(b"location", back)], b""
        elif path == "/v1/consents":
            status, body = 201, answers["consents"]
        elif path.endswith("/status"):
            body = answers["status"]
        elif path.startswith("/v1/consents/"):
            body = answers["consent"]
        elif path == "/v1/card-accounts":
            body = answers["card-accounts"]
        else:
            body = answers["accounts"]
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def floor_factory():
    """The floor for granian (bench/servers.py), told its bank and byte counts by the environment."""
    return floor_app(os.environ["BENCH_BANK_URL"], json.loads(os.environ["BENCH_WIRE"]))


def serve(kind: str, port: int, other_url: str, wire_json: str) -> None:
    """Run in a child process: the floor server or its stub bank, with `serve`'s uvicorn settings."""
    import uvicorn

    app = floor_app(other_url, json.loads(wire_json)) if kind == "floor" else stub_bank(other_url)
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, server_header=False, log_level="warning",
                http="httptools", loop="uvloop", timeout_keep_alive=KEEP_ALIVE_SECONDS)


class Floor:
    name = "floor"

    def __init__(self, wire: dict[str, int] | None = None, concurrency: int = 8, server: str = "uvicorn") -> None:
        self.name = "floor" if server == "uvicorn" else f"floor under {server}"
        wire = {**WIRE, **(wire or {})}
        port, bank_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.bank_url = bank_url = f"http://127.0.0.1:{bank_port}"
        here = str(Path(__file__).resolve())
        self.bank = subprocess.Popen(["taskset", "-c", "1", sys.executable, here, "bank", str(bank_port), self.url, "{}"])
        if server == "granian":
            self.proc = subprocess.Popen(["taskset", "-c", "0", *granian("_workload:floor_factory", port)],
                                         env={**os.environ, "BENCH_BANK_URL": bank_url, "BENCH_WIRE": json.dumps(wire)})
        else:
            self.proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, here, "floor", str(port), bank_url,
                                          json.dumps(wire)])
        wait_until_up(bank_url + "/v1/accounts", self.bank)
        wait_until_up(self.url + "/token-requests/x/result", self.proc)
        self.api = [httpx2.Client(base_url=self.url, headers={"Authorization": "Bearer " + "b" * 43}, timeout=60)
                    for _ in range(concurrency)]

    def one_flow(self, i: int) -> tuple[float, int]:
        started = time.perf_counter()
        tpp = self.api[i % len(self.api)]
        tpp.post("/token-requests", json=request_body(i))
        with httpx2.Client(base_url=self.url, timeout=60) as customer:
            customer.get("/app/request-token/rq")
            customer.post("/app/request-token/rq/bank", data={"csrf": "c" * 43, "bank_id": "sandbox"})
            customer.get("/app/request-token/rq/consent")
            to_bank = customer.post("/app/request-token/rq/consent", data={"csrf": "c" * 43, "decision": "allow"})
            with httpx2.Client(base_url=self.bank_url, timeout=60) as at_bank:
                assert to_bank.headers["location"] == "/authorise/a"
                at_bank.get("/authorise/a")
                at_bank.post("/authorise/a/login", data={"username": "alice", "password": "sandbox", "state": "s" * 80})
                at_bank.get("/authorise/a")
                back = at_bank.post("/authorise/a/decision", data={"decision": "confirm", "state": "s" * 80})
            done = customer.get(back.headers["location"])
        tpp.get("/token-requests/rq/result")
        accounts = tpp.get("/accounts", headers={"On-Behalf-Of": "tt_" + "t" * 22})
        ok = done.status_code == 302 and accounts.status_code == 200
        return time.perf_counter() - started, 0 if ok else 1

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def loop_cpu(self) -> float:
        return loop_cpu_seconds(self.proc.pid)

    def bank_cpu(self) -> float:
        return cpu_seconds(self.bank.pid)

    def stop(self) -> None:
        for client in self.api:
            client.close()
        for proc in (self.proc, self.bank):
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    serve(*sys.argv[1:5])
