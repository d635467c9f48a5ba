"""What the chosen parts cost before the product does anything: the shape of bench/flow.py (a JSON
POST and two GETs on the TPP's kept connections; two form POSTs and five GETs on a new connection
per customer, three of them 302s) against bare Starlette routes under uvicorn with the same
settings as `serve` (httptools, uvloop, one core), each answering a fixed body of the size the
real screen sends. No middleware, database, templates, signing or logging. Prints one JSON line
with server CPU ms per flow (median of several rounds), the floor under bench/flow.py's figure.
--raw leaves Starlette out too: uvicorn answering from a bare ASGI callable.

    .venv/bin/python bench/floor.py [--raw] [--flows 100] [--rounds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2

from _harness import cpu_seconds, median_of_rounds
from tests.support.postgres import free_port

PAGE = b"<!doctype html>" + b"x" * 6000  # about what a compressed screen weighs on the wire


def app():
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Route

    async def page(request: Request) -> Response:
        return Response(PAGE, media_type="text/html")

    async def form_then_redirect(request: Request) -> Response:
        await request.form()
        return RedirectResponse("/next", status_code=302)

    async def redirect(request: Request) -> Response:
        return RedirectResponse("/next", status_code=302)

    async def store(request: Request) -> Response:
        await request.json()
        return JSONResponse({"token_request": {"id": "rq"}, "url": "/app/rq"}, status_code=201)

    async def small_json(request: Request) -> Response:
        return JSONResponse({"status": "APPROVED", "token_id": "tk"})

    return Starlette(routes=[
        Route("/token-requests", store, methods=["POST"]),
        Route("/app/{rq}", page, methods=["GET"]),
        Route("/app/{rq}/bank", form_then_redirect, methods=["POST"]),
        Route("/bank/login", page, methods=["GET"]),
        Route("/bank/login", form_then_redirect, methods=["POST"]),
        Route("/app/callback", redirect, methods=["GET"]),
        Route("/app/{rq}/consent", page, methods=["GET"]),
        Route("/app/{rq}/consent", form_then_redirect, methods=["POST"]),
        Route("/token-requests/{rq}/result", small_json, methods=["GET"]),
        Route("/accounts", small_json, methods=["GET"]),
    ])


def raw_app():
    """uvicorn alone: a bare ASGI callable that reads the body and answers the same status and bytes."""
    pages = {"/app/rq", "/bank/login", "/app/rq/consent"}

    async def answer(scope, receive, send):
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        path, method = scope["path"], scope["method"]
        if method == "GET" and path in pages:
            status, headers, body = 200, [(b"content-type", b"text/html")], PAGE
        elif method == "POST" and path != "/token-requests" or path == "/app/callback":
            status, headers, body = 302, [(b"location", b"/next")], b""
        else:
            status, headers, body = 200, [(b"content-type", b"application/json")], b'{"status":"APPROVED"}'
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return answer


def serve(port: int, raw: bool) -> None:
    import uvicorn

    uvicorn.run(raw_app() if raw else app(), host="127.0.0.1", port=port, access_log=False, server_header=False,
                log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--raw", action="store_true", help="no Starlette: a bare ASGI callable under uvicorn")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.raw)
    os.sched_setaffinity(0, {1})
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, __file__, "--serve", str(port),
                             *(["--raw"] if args.raw else [])])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(url + "/accounts", timeout=1)
                break
            except httpx2.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        api = [httpx2.Client(base_url=url) for _ in range(args.concurrency)]

        def one_flow(i: int) -> None:
            tpp = api[i % len(api)]
            tpp.post("/token-requests", json={"resources": ["ACCOUNTS"], "ref_id": f"flow-{i}"})
            with httpx2.Client(base_url=url) as customer:
                customer.get("/app/rq")
                customer.post("/app/rq/bank", data={"csrf": "c" * 40, "bank_id": "sandbox"})
                customer.get("/bank/login")
                customer.post("/bank/login", data={"state": "s" * 80, "username": "alice", "password": "sandbox"})
                customer.get("/app/callback")
                customer.get("/app/rq/consent")
                customer.post("/app/rq/consent", data={"csrf": "c" * 40, "decision": "allow", "account_id": ["a", "b"]})
            tpp.get("/token-requests/rq/result")
            tpp.get("/accounts")

        def one_round() -> float:
            before = cpu_seconds(proc.pid)
            list(pool.map(one_flow, range(args.flows)))
            return (cpu_seconds(proc.pid) - before) * 1000 / args.flows

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(one_flow, range(20)))  # warm-up
            cpu_ms, rounds = median_of_rounds(args.rounds, one_round)
        print(json.dumps({
            "benchmark": "floor",
            "server": "uvicorn, bare ASGI" if args.raw else "uvicorn + Starlette routes",
            "flows": args.flows * args.rounds,
            "concurrency": args.concurrency,
            "http_requests_per_flow": 10,
            "server_cpu_ms_per_flow": round(cpu_ms, 2),
            "rounds_cpu_ms": [round(r, 2) for r in rounds],
        }))
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
