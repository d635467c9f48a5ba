"""BridgeClient and AsyncBridgeClient against the live server."""

import asyncio
import socket
import threading
import time

import pytest

from webview_bridge.tpp import AsyncBridgeClient, BridgeClient, BridgeError


def run_in_own_loop(coroutine_function):
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop running in this one."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()


@pytest.fixture
def client(server, tpp):
    with BridgeClient(server.url, tpp.creds.app_id, tpp.creds.app_secret) as bridge:
        yield bridge


def test_the_client_wraps_every_tpp_call(client, tpp, server):
    assert client.me().id == tpp.app_id
    banks = client.get_banks(search="lumiere", countries=["FR"])
    assert [b.name for b in banks.banks] == ["Crédit Lumière"]
    created = client.store_token_request(
        resources=["ACCOUNTS", "BALANCES", "TRANSACTIONS", "STANDING_ORDERS", "TRANSFER_DESTINATIONS", "FUNDS_CONFIRMATIONS"],
        redirect_url="https://tpp.example/callback", ref_id="client-1", csrf_token="x" * 20, description="Client test")
    assert created.url.endswith(created.token_request.id)
    assert client.get_token_request(created.token_request.id).ref_id == "client-1"
    assert client.get_token_request_result(created.token_request.id).status == "PENDING"
    token = tpp.approve(created.token_request.id)
    assert client.get_token_request_result(created.token_request.id, description="Client test").token_id == token.id
    accounts = client.get_accounts(token.id)
    first = accounts[0].id
    assert client.get_account(token.id, first).name == "Everyday Account"
    assert client.get_balance(token.id, first).current.currency == "GBP"
    page = client.get_transactions(token.id, first, limit=3)
    assert len(page.transactions) == 3 and page.offset
    assert client.get_transaction(token.id, first, page.transactions[0].id) == page.transactions[0]
    assert len(client.get_standing_orders(token.id, first)) == 2
    assert client.get_transfer_destinations(token.id, first)
    assert client.confirm_funds(token.id, first, currency="GBP", value="1.00") is True
    assert client.get_tokens(status="ACTIVE").paging.total_count == 1
    assert client.get_token(token.id).status == "ACTIVE"
    assert client.cancel_token(token.id, description="Client test").status == "CANCELLED"


def test_errors_carry_the_protocol_code(client, other_tpp):
    with pytest.raises(BridgeError) as refused:
        client.store_token_request(resources=["ACCOUNTS"], redirect_url="https://evil.example/", ref_id="r",
                                   csrf_token="x" * 20)
    assert (refused.value.code, refused.value.status, refused.value.field) == ("redirect_url_not_registered", 400, "redirect_url")
    stored = other_tpp.store_request()
    theirs = other_tpp.approve(stored["id"])
    with pytest.raises(BridgeError) as denied:
        client.get_accounts(theirs.id)
    assert denied.value.code == "not_grantee"


def test_wrong_credentials_are_a_bridge_error(server):
    with BridgeClient(server.url, "app_nope", "nope") as bad, pytest.raises(BridgeError) as failed:
        bad.get_tokens()
    assert (failed.value.code, failed.value.status) == ("invalid_client", 401)


def test_the_client_renews_its_token_by_itself(client, clock):
    client.get_tokens()
    first = client._tokens.access_token
    clock.advance(hours=2)  # the server refuses the old access token; the client retries once
    assert client.get_tokens().paging.total_count == 0
    assert client._tokens.access_token != first


def test_concurrent_calls_never_spend_a_refresh_token_twice(client, clock):
    client.get_tokens()
    clock.advance(hours=2)
    errors = []

    def call():
        try:
            client.get_tokens()
        except BridgeError as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client.get_tokens().paging.total_count == 0


def test_the_async_client(server, tpp):
    async def run():
        async with AsyncBridgeClient(server.url, tpp.creds.app_id, tpp.creds.app_secret) as bridge:
            stored = await bridge.store_token_request(resources=["ACCOUNTS"], redirect_url="https://tpp.example/callback",
                                                      ref_id="async-1", csrf_token="y" * 20)
            token = tpp.approve(stored.token_request.id)
            accounts, result = await asyncio.gather(bridge.get_accounts(token.id),
                                                    bridge.get_token_request_result(stored.token_request.id))
            return accounts, result, token

    accounts, result, token = run_in_own_loop(run)
    assert len(accounts) == 3 and result.token_id == token.id


@pytest.mark.databases("sqlite")
def test_a_server_that_is_down_or_slow_fails_fast_with_a_clear_error():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with BridgeClient(f"http://127.0.0.1:{port}", "app_x", "s") as down, pytest.raises(BridgeError) as unreachable:
        down.get_banks()
    assert unreachable.value.code == "server_unreachable"

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    started = time.monotonic()
    with BridgeClient(f"http://127.0.0.1:{silent.getsockname()[1]}", "app_x", "s", timeout=0.5) as slow:
        with pytest.raises(BridgeError) as timed_out:
            slow.get_banks()
    silent.close()
    assert timed_out.value.code == "timeout" and time.monotonic() - started < 5


def test_every_id_in_a_path_is_percent_encoded():
    """An id is one path segment, whatever it holds: never a way to another endpoint."""
    import httpx2

    sent = []

    def answer(request):
        sent.append(request.url.raw_path.decode())
        if request.url.path == "/oauth/token":
            return httpx2.Response(200, json={"access_token": "a", "refresh_token": "r", "expires_in": 3600})
        return httpx2.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    hostile = "../../me?x=1#"
    calls = {
        "get_token_request": (hostile,),
        "get_token_request_result": (hostile,),
        "get_token": (hostile,),
        "cancel_token": (hostile,),
        "get_account": ("tt_1", hostile),
        "get_balance": ("tt_1", hostile),
        "get_transactions": ("tt_1", hostile),
        "get_transaction": ("tt_1", "acc_1", hostile),
        "get_standing_orders": ("tt_1", hostile),
        "get_transfer_destinations": ("tt_1", hostile),
    }
    with BridgeClient("http://bridge.example", "app_x", "s", transport=httpx2.MockTransport(answer)) as client:
        for name, args in calls.items():
            with pytest.raises(BridgeError):
                getattr(client, name)(*args)
        with pytest.raises(BridgeError):
            client.confirm_funds("tt_1", hostile, currency="EUR", value="1.00")
        with pytest.raises(BridgeError) as empty:
            client.get_token("")
        assert empty.value.code == "invalid_value"
        with pytest.raises(BridgeError):
            client.get_transaction("tt_1", "..", "\x01")
    paths = [p for p in sent if p != "/oauth/token"]
    assert len(paths) == len(calls) + 2
    for path in paths:
        assert "/../" not in path and "?" not in path and "#" not in path and "/me" not in path, path
    assert paths[0] == "/token-requests/%2E%2E%2F%2E%2E%2Fme%3Fx%3D1%23"
    assert paths[-1] == "/accounts/%2E%2E/transactions/%01"
