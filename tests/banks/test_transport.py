"""The bank connectors' transport keeps its connections to a bank, notices when the bank has closed
one, and sends a read again when the bank dropped it unanswered, over real loopback sockets (its
TLS layer is exercised by the connector's QWAC tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx2
import pytest

from tests.support.aio import run
from webview_bridge.banks.transport import bank_transport

pytestmark = pytest.mark.databases("sqlite")  # about the transport, not storage

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@asynccontextmanager
async def _bank(handler: Callable) -> AsyncIterator[tuple[httpx2.AsyncClient, str]]:
    """A bank that is `handler` on a loopback port, and a client on the connectors' transport."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with server, httpx2.AsyncClient(transport=bank_transport(True)) as client:
        yield client, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _calls_to_a_bank(closes_after_answering: bool, method: str = "GET", calls: int = 3) -> tuple[list[int], int]:
    """(the status of each call, how many connections the bank saw) for calls made one after
    another, each once the bank has finished with the one before."""
    connections = 0
    done = asyncio.Event()

    async def bank(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(ANSWER)
            await writer.drain()
            if closes_after_answering:
                writer.close()
                await writer.wait_closed()
                done.set()
                return
            done.set()

    statuses = []
    async with _bank(bank) as (client, url):
        for _ in range(calls):
            done.clear()
            statuses.append((await client.request(method, url + "/v1/consents")).status_code)
            await done.wait()
    return statuses, connections


def test_a_kept_connection_carries_the_next_call():
    assert run(_calls_to_a_bank(closes_after_answering=False)) == ([200, 200, 200], 1)


def test_a_connection_the_bank_closed_is_not_used_again():
    # Reusing it would send the call into a closed socket: "disconnected without a response". A
    # consent request, which is never sent twice, shows it (a read would be sent again).
    assert run(_calls_to_a_bank(closes_after_answering=True, method="POST")) == ([200, 200, 200], 3)


async def _calls_to_a_bank_that_drops(method: str) -> tuple[list[object], int]:
    """A bank that answers the first call on each connection and, like a bank closing a connection
    idle too long just as the next call arrives, drops the second unanswered: (what each of two
    calls got, how many requests reached the bank)."""
    requests = 0

    async def bank(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await reader.readuntil(b"\r\n\r\n")
        requests += 1
        writer.write(ANSWER)
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        requests += 1
        writer.close()
        await writer.wait_closed()

    outcomes: list[object] = []
    async with _bank(bank) as (client, url):
        for _ in range(2):
            try:
                outcomes.append((await client.request(method, url + "/v1/consents/c1")).status_code)
            except httpx2.HTTPError as exc:
                outcomes.append(type(exc).__name__)
    return outcomes, requests


def test_a_read_the_bank_dropped_unanswered_is_sent_again_on_a_new_connection():
    assert run(_calls_to_a_bank_that_drops("GET")) == ([200, 200], 3)


def test_a_consent_request_the_bank_dropped_is_not_sent_again():
    # The bank may have acted on it: the connector reports the bank unavailable instead.
    assert run(_calls_to_a_bank_that_drops("POST")) == ([200, "RemoteProtocolError"], 2)
