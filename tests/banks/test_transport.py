"""The bank connectors' transport keeps its connections to a bank, notices when the bank has closed
one, and sends a read again when the bank dropped it unanswered, over real loopback sockets (its
TLS layer is exercised by the connector's QWAC tests)."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from tests.support.aio import run
from webview_bridge.banks.transport import bank_transport

pytestmark = pytest.mark.databases("sqlite")  # about the transport, not storage

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


async def _calls_to_a_bank(closes_after_answering: bool, calls: int = 3) -> tuple[list[int], int]:
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

    server = await asyncio.start_server(bank, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limits = httpx2.Limits(max_connections=5, max_keepalive_connections=5, keepalive_expiry=30)
    statuses = []
    async with server, httpx2.AsyncClient(transport=bank_transport(True, limits)) as client:
        for _ in range(calls):
            done.clear()
            statuses.append((await client.get(f"http://127.0.0.1:{port}/v1/accounts")).status_code)
            await done.wait()
    return statuses, connections


def test_a_kept_connection_carries_the_next_call():
    assert run(_calls_to_a_bank(closes_after_answering=False)) == ([200, 200, 200], 1)


def test_a_connection_the_bank_closed_is_not_used_again():
    # Reusing it would send the call into a closed socket: "disconnected without a response".
    assert run(_calls_to_a_bank(closes_after_answering=True)) == ([200, 200, 200], 3)


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

    server = await asyncio.start_server(bank, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limits = httpx2.Limits(max_connections=5, max_keepalive_connections=5, keepalive_expiry=30)
    outcomes: list[object] = []
    async with server, httpx2.AsyncClient(transport=bank_transport(True, limits)) as client:
        for _ in range(2):
            try:
                outcomes.append((await client.request(method, f"http://127.0.0.1:{port}/v1/consents/c1")).status_code)
            except httpx2.HTTPError as exc:
                outcomes.append(type(exc).__name__)
    return outcomes, requests


def test_a_read_the_bank_dropped_unanswered_is_sent_again_on_a_new_connection():
    assert run(_calls_to_a_bank_that_drops("GET")) == ([200, 200], 3)


def test_a_consent_request_the_bank_dropped_is_not_sent_again():
    # The bank may have acted on it: the connector reports the bank unavailable instead.
    assert run(_calls_to_a_bank_that_drops("POST")) == ([200, "RemoteProtocolError"], 2)
