"""Webhooks and events (PROTOCOL §12): signed the Standard Webhooks way, from a durable outbox,
in order per token request, retried, then disabled; each app sees only its own."""

from __future__ import annotations

import pytest

from tests.support.receiver import Receiver
from webview_bridge.store import outbox


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def hooked(tpp, receiver):
    made = tpp.http.post("/webhooks", json={"url": receiver.url})
    assert made.status_code == 201, made.text
    receiver.secret = made.json()["webhook"]["secret"]
    return made.json()["webhook"]


def deliver(server) -> int:
    return server.run(server.app.state.worker.run_due())


def test_a_webhooks_secret_is_shown_once_and_urls_follow_the_redirect_rules_but_https(tpp, hooked):
    assert hooked["secret"].startswith("whsec_") and hooked["status"] == "active" and hooked["events"] is None
    import base64

    assert len(base64.b64decode(hooked["secret"].removeprefix("whsec_"))) == 32
    listed = tpp.http.get("/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [hooked["id"]] and "secret" not in listed[0]
    assert "secret" not in tpp.http.get(f"/webhooks/{hooked['id']}").json()["webhook"]
    for url in ("http://tpp.example/hooks", "myapp://hooks", "https://tpp.example/hooks#x", "ftp://x"):
        refused = tpp.http.post("/webhooks", json={"url": url})
        assert (refused.status_code, refused.json()["error"]["field"]) == (400, "url"), url
    for url in ("http://localhost:9/h", "http://[::1]:9/h", "https://tpp.example/h?x=1"):
        assert tpp.http.post("/webhooks", json={"url": url}).status_code == 201, url
    unknown = tpp.http.post("/webhooks", json={"url": "https://tpp.example/h", "events": ["token.nope"]})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "events[0]")


def test_a_flows_events_arrive_signed_in_order_with_ids_only(tpp, hooked, receiver, server):
    stored = tpp.store_request()
    token = tpp.approve(stored["id"])
    tpp.http.put(f"/tokens/{token.id}/cancel")
    deliver(server)
    assert receiver.refused == []
    assert receiver.types() == ["token_request.processed", "token.cancelled"]
    processed, cancelled = receiver.received
    assert processed["data"] == {"request_id": stored["id"], "token_id": token.id}
    assert cancelled["data"] == {"token_id": token.id, "request_id": stored["id"]}
    assert receiver.headers[0]["webhook-id"] == processed["id"] and processed["id"].startswith("ev_")
    assert "Everyday" not in str(receiver.received)  # never account data
    events = tpp.http.get("/events").json()["events"]
    assert [e["id"] for e in events] == [processed["id"], cancelled["id"]]


def test_rejections_and_expiries_are_told(tpp, hooked, receiver, server, clock):
    denied = tpp.store_request(ref_id="denied")
    from tests.support.customer import Customer

    Customer(server.url).run(f"{server.url}/app/request-token/{denied['id']}", decision="deny")
    forgotten = tpp.store_request(ref_id="forgotten")
    deliver(server)
    assert receiver.types() == ["token_request.rejected"]
    assert receiver.received[0]["data"] == {"request_id": denied["id"], "error": "access_denied"}
    clock.advance(minutes=20)
    deliver(server)
    assert receiver.types()[-1] == "token_request.expired"
    assert receiver.received[-1]["data"] == {"request_id": forgotten["id"]}
    assert receiver.types().count("token_request.expired") == 1  # the decided one is not expired


def test_tokens_are_told_7_and_1_days_before_they_end_and_when_they_end(tpp, hooked, receiver, server, clock):
    token = tpp.approve(tpp.store_request(token_expiration_days=10)["id"])
    deliver(server)
    clock.advance(days=3, minutes=1)
    deliver(server)
    assert receiver.types() == ["token_request.processed", "token.expiring"]
    clock.advance(days=6)
    tpp.renew()
    deliver(server)
    clock.advance(days=1)
    deliver(server)
    assert receiver.types() == ["token_request.processed", "token.expiring", "token.expiring", "token.expired"]
    assert receiver.received[-1]["data"] == {"token_id": token.id, "request_id": token.request_id}


def test_a_failing_endpoint_is_retried_with_backoff_then_disabled_after_a_day(tpp, hooked, receiver, server, clock):
    receiver.failing = True
    tpp.approve(tpp.store_request()["id"])
    deliver(server)
    assert receiver.attempts == 1 and receiver.received == []
    deliver(server)
    assert receiver.attempts == 1  # not before its retry falls due
    clock.advance(seconds=30)
    deliver(server)
    assert receiver.attempts == 2
    clock.advance(seconds=59)
    deliver(server)
    assert receiver.attempts == 2  # the second wait doubles: 60 s
    clock.advance(seconds=1)
    deliver(server)
    assert receiver.attempts == 3
    receiver.failing = False
    clock.advance(minutes=2)
    deliver(server)
    assert receiver.types() == ["token_request.processed"]  # delivered once it answered
    receiver.failing = True
    tpp.approve(tpp.store_request(ref_id="second")["id"])
    for _ in range(30):
        deliver(server)
        clock.advance(hours=1)
    tpp.renew()
    hook = tpp.http.get(f"/webhooks/{hooked['id']}").json()["webhook"]
    assert hook["status"] == "disabled" and "failing since" in hook["disabled_reason"]
    assert outbox.pending(server.runtime.db, "webhook.deliver") == 0
    before = receiver.attempts
    tpp.approve(tpp.store_request(ref_id="third")["id"])
    deliver(server)
    assert receiver.attempts == before  # gets nothing while disabled
    receiver.failing = False
    assert tpp.http.put(f"/webhooks/{hooked['id']}", json={"status": "active"}).json()["webhook"]["status"] == "active"
    tpp.approve(tpp.store_request(ref_id="fourth")["id"])
    deliver(server)
    assert receiver.types()[-1] == "token_request.processed"


def test_events_can_be_caught_up_and_replayed(tpp, server):
    first = tpp.store_request(ref_id="a")
    second = tpp.store_request(ref_id="b")
    from tests.support.customer import Customer

    for stored in (first, second):
        Customer(server.url).run(f"{server.url}/app/request-token/{stored['id']}", decision="deny")
    events = tpp.http.get("/events").json()["events"]
    assert [e["data"]["request_id"] for e in events] == [first["id"], second["id"]]
    after = tpp.http.get("/events", params={"after": events[0]["id"]}).json()["events"]
    assert [e["id"] for e in after] == [events[1]["id"]]
    assert tpp.http.get("/events", params={"limit": 1}).json()["events"] == events[:1]
    unknown = tpp.http.get("/events", params={"after": "ev_nope"})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "after")


def test_another_app_sees_none_of_an_apps_events_or_webhooks(tpp, other_tpp, hooked, server):
    tpp.approve(tpp.store_request()["id"])
    mine = tpp.http.get("/events").json()["events"]
    assert mine and other_tpp.http.get("/events").json()["events"] == []
    assert other_tpp.http.get("/webhooks").json()["webhooks"] == []
    assert other_tpp.http.get(f"/webhooks/{hooked['id']}").status_code == 404
    assert other_tpp.http.delete(f"/webhooks/{hooked['id']}").status_code == 404
    assert other_tpp.http.get("/events", params={"after": mine[0]["id"]}).status_code == 400
    assert tpp.http.delete(f"/webhooks/{hooked['id']}").status_code == 204
    assert tpp.http.get(f"/webhooks/{hooked['id']}").status_code == 404


def test_a_bank_status_change_is_told_once(tpp, app, clock):
    from dataclasses import replace

    from webview_bridge.store import bank_statuses

    runtime = app.state.runtime
    banks = list(runtime.directory.banks)
    sandbox = next(b for b in banks if b.id == "sandbox")
    changed = [replace(sandbox, status="maintenance") if b.id == "sandbox" else b for b in banks]
    assert bank_statuses.record(runtime.db, clock, changed) == ["sandbox"]
    assert bank_statuses.record(runtime.db, clock, changed) == []  # another instance starting: nothing new
    told = [e for e in tpp.http.get("/events").json()["events"] if e["type"] == "bank.status_changed"]
    assert [e["data"] for e in told] == [{"bank_id": "sandbox", "status": "maintenance"}]
