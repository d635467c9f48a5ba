"""The bank connectors' transport keeps its connections to a bank, and notices when the bank has
closed one, over real loopback sockets (its TLS layer is exercised by the connector's QWAC tests)."""

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
