"""Events are never lost and never sent twice by two instances (PROTOCOL §12): a server killed
with SIGKILL while events wait leaves them to the next one; a worker that dies mid-delivery leaves
its task to be claimed again; two instances on one PostgreSQL database send each event once."""

from __future__ import annotations

import time

import httpx2
import pytest

from tests.support.customer import Customer
from tests.support.processes import ServeProcess, cli_json
from tests.support.receiver import Receiver

NO_LIMITS = {"WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_API": "0",
             "WEBVIEW_BRIDGE_RATE_LIMIT_PAGES": "0", "WEBVIEW_BRIDGE_WEBHOOK_RETRY_BASE_SECONDS": "1"}
BODY = {"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": "hook", "csrf_token": "c" * 20}


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def _tpp(database_url: str, server: ServeProcess, receiver: Receiver) -> httpx2.Client:
    creds = cli_json("apps", "create", "--database", database_url, "--name", "Hooked", "--role", "tpp",
                     "--redirect-url", "https://tpp.example/callback")
    token = httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(creds["app_id"], creds["app_secret"])).json()["access_token"]
    client = httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    receiver.secret = client.post("/webhooks", json={"url": receiver.url}).json()["webhook"]["secret"]
    return client


def _denials(client: httpx2.Client, server_urls: list[str], count: int) -> list[str]:
    """Requests denied by a customer: each acknowledged 302 made one token_request.rejected event."""
    denied = []
    for n in range(count):
        url = server_urls[n % len(server_urls)]
        created = httpx2.post(url + "/token-requests", json={**BODY, "ref_id": f"hook-{n}"},
                              headers=client.headers, timeout=10).json()
        back = Customer(url).run(created["url"].replace(server_urls[0], url), decision="deny")
        assert back.status_code == 302
        denied.append(created["token_request"]["id"])
    return denied


def _nothing_pending(database_url: str) -> bool:
    from webview_bridge.store import outbox
    from webview_bridge.store.database import Database

    db = Database(database_url)
    try:
        return outbox.pending(db, "webhook.deliver") == 0
    finally:
        db.dispose()


def _until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not delivered in time"
        time.sleep(0.1)


def test_events_pending_when_the_server_is_killed_are_sent_after_it_restarts(database_url, receiver):
    quiet = ServeProcess(database_url, env={**NO_LIMITS, "WEBVIEW_BRIDGE_WORKER": "0"})  # events wait, none sent
    client = _tpp(database_url, quiet, receiver)
    denied = _denials(client, [quiet.url], 8)
    quiet.kill()  # SIGKILL with every event pending
    assert receiver.received == []
    restarted = ServeProcess(database_url, env=NO_LIMITS)
    try:
        _until(lambda: len(receiver.received) >= len(denied))
        assert sorted(e["data"]["request_id"] for e in receiver.received) == sorted(denied)
        assert receiver.refused == []
    finally:
        restarted.kill()


@pytest.mark.databases("postgresql")
def test_two_instances_send_each_event_once(database_url, receiver):
    first, second = ServeProcess(database_url, env=NO_LIMITS), ServeProcess(database_url, env=NO_LIMITS)
    try:
        client = _tpp(database_url, first, receiver)
        denied = _denials(client, [first.url, second.url], 16)
        _until(lambda: len(receiver.received) >= len(denied) and _nothing_pending(database_url))
        ids = [e["id"] for e in receiver.received]
        assert len(ids) == len(set(ids)) == len(denied)
    finally:
        first.kill()
        second.kill()


def test_a_task_whose_worker_died_mid_way_is_claimed_again_after_its_lease(server, tpp, clock):
    from webview_bridge.store import outbox

    runtime = server.runtime
    tpp.store_request()  # promises an expiry check
    with runtime.db.write() as conn:
        outbox.enqueue(conn, runtime.clock, "webhook.deliver", {"webhook_id": "wh_gone", "event_id": "ev_gone"})
    claimed = outbox.claim(runtime.db, runtime.clock)  # ... and the worker dies before finishing it
    assert [t.topic for t in claimed] == ["webhook.deliver"]
    assert outbox.claim(runtime.db, runtime.clock) == []  # leased: nobody else takes it meanwhile
    clock.advance(seconds=outbox.LEASE.total_seconds())
    assert [t.topic for t in outbox.claim(runtime.db, runtime.clock)] == ["webhook.deliver"]
