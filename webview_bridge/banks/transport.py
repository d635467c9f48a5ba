"""The bank connectors' HTTP transport: httpx2's own, which tries a read once more when the bank
dropped the connection without answering, over network streams that keep their socket at hand.

A bank closes a kept connection after its own idle time (often 5 s); a call sent on it just as it
closes fails with no answer at all. The pool lets connections go sooner than that (BANK_LIMITS);
for a bank quicker still, a read (GET, HEAD, DELETE: the same call twice changes nothing) that got
no answer is sent again on a new connection, once; a consent request (POST) is not, as the bank
may have acted on it.

Before each request and after each answer, httpcore2's pool asks every idle connection whether the
bank has closed it ("is the socket readable?"). The stock stream finds its socket anew for every
question through anyio's typed attributes, which build a table of every attribute each time
(about 120 questions in one flow with eight customers: docs/benchmarks.md). These streams look
their socket up once, when the connection (or its TLS layer) is made, and answer the question with
the same readability check httpcore2 uses.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2
from httpcore2._utils import is_socket_readable


class _SocketAtHand(httpcore2.AsyncNetworkStream):
    def __init__(self, stream: httpcore2.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore2.AsyncNetworkStream:
        return _SocketAtHand(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._socket)
        if info == "socket":
            return self._socket
        return self._stream.get_extra_info(info)


class _Backend(httpcore2.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore2.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore2.AsyncNetworkStream:
        return _SocketAtHand(await self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


# Up to 50 connections to one bank, 20 of them kept idle for 4 s each: less than the 5 s after
# which common servers (Apache's and uvicorn's defaults) close an idle connection, so the pool lets
# a connection go before the bank does, rather than race the bank's close with a consent request
# it could not send again.
BANK_LIMITS = httpx2.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=4)

_SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "DELETE"})
# What httpx2 raises when the connection ended or broke before an answer (not a time limit).
_DROPPED = (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError)


class _Transport(httpx2.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await super().handle_async_request(request)
        except _DROPPED:
            if request.method not in _SAFE_TO_REPEAT:
                raise
        return await super().handle_async_request(request)


def bank_transport(verify: ssl.SSLContext | bool, limits: httpx2.Limits = BANK_LIMITS) -> httpx2.AsyncHTTPTransport:
    """httpx2's transport (TLS, pooling, its errors) whose connections are `_SocketAtHand` streams.
    httpx2 does not pass a network backend on to the httpcore2 pool it builds, so it is given to
    that pool as its constructor would take it (tests/banks/test_transport.py holds it to work)."""
    transport = _Transport(verify=verify, limits=limits, trust_env=False)
    transport._pool._network_backend = _Backend()
    return transport
