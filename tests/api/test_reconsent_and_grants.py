"""Re-consent (PROTOCOL §13) and the customer's own list of grants (§14)."""

from __future__ import annotations

import hashlib

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import Tpp
from tests.support.customer import Customer, forms, query


def state_payload(state: str, secret: str) -> dict:
    return URLSafeTimedSerializer(secret, salt="webview-bridge/callback",
                                  signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256}).loads(state)


@pytest.fixture
def token(tpp):
    return tpp.approve(tpp.store_request(token_expiration_days=30)["id"])


def test_only_this_apps_active_or_recently_expired_token_can_be_renewed(tpp, other_tpp, token, clock):
    for fields, field in (({"replaces_token_id": "tt_nope"}, "replaces_token_id"),
                          ({"replaces_token_id": token.id, "bank_id": "thistle-crown"}, "bank_id")):
        refused = tpp.http.post("/token-requests", json={"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback",
                                                         "ref_id": "r", "csrf_token": "c" * 20, **fields})
        assert (refused.status_code, refused.json()["error"]["field"]) == (400, field)
    theirs = other_tpp.http.post("/token-requests", json={"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback",
                                                          "ref_id": "r", "csrf_token": "c" * 20, "replaces_token_id": token.id})
    assert (theirs.status_code, theirs.json()["error"]["field"]) == (400, "replaces_token_id")
    renewal = tpp.store_request(replaces_token_id=token.id)
    assert renewal["replaces_token_id"] == token.id and renewal["bank_id"] == "sandbox"
    clock.advance(days=30 + 91)
    tpp.renew()
    stale = tpp.http.post("/token-requests", json={"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback",
                                                   "ref_id": "r", "csrf_token": "c" * 20, "replaces_token_id": token.id})
    assert stale.json()["error"]["code"] == "token_not_renewable"


def test_a_renewal_skips_bank_selection_and_replaces_the_old_token_at_once(tpp, token, server):
    renewal = tpp.store_request(replaces_token_id=token.id)
    person = Customer(server.url)
    consent = person.to_consent(f"{server.url}/app/request-token/{renewal['id']}")
    assert "renews access" in consent.text
    back = person.back_from_bank(person.at_bank(person.decide(consent, "allow")))
    params = query(back.headers["location"])
    assert state_payload(params["state"], tpp.creds.callback_secret)["replaces_token_id"] == token.id
    result = tpp.http.get(f"/token-requests/{renewal['id']}/result").json()
    assert result["token_id"] == params["token-id"] and result["replaces_token_id"] == token.id
    assert tpp.http.get(f"/tokens/{token.id}").json()["token"]["status"] == "CANCELLED"
    assert tpp.http.get(f"/tokens/{params['token-id']}").json()["token"]["status"] == "ACTIVE"
    told = [(e["type"], e["data"]) for e in tpp.http.get("/events").json()["events"]][-2:]
    assert told == [("token.cancelled", {"token_id": token.id, "request_id": token.request_id}),
                    ("token_request.processed", {"request_id": renewal["id"], "token_id": params["token-id"],
                                                 "replaces_token_id": token.id})]
    plain = query(person.run(f"{server.url}/app/request-token/{tpp.store_request()['id']}").headers["location"])
    assert "replaces_token_id" not in state_payload(plain["state"], tpp.creds.callback_secret)


def test_denying_a_renewal_keeps_the_old_token(tpp, token, server):
    renewal = tpp.store_request(replaces_token_id=token.id)
    Customer(server.url).run(f"{server.url}/app/request-token/{renewal['id']}", decision="deny")
    assert tpp.http.get(f"/tokens/{token.id}").json()["token"]["status"] == "ACTIVE"


@pytest.fixture
def bank(server, register_app):
    client = Tpp(server, register_app("bank", name="Sandbox Bank app", bank_id="sandbox"))
    client.http.put("/customers", json={"customers": [{"client_id": "alice", "phones": []}]})
    yield client
    client.http.close()


def client_token(bank, **spec) -> str:
    return bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 10, "client_id": "alice", **spec}]).json()[0]["client_token"]


def test_a_bank_sees_and_stops_its_customers_grants_and_no_one_elses(tpp, bank, server, register_app):
    by_login = tpp.approve(tpp.store_request(description="Budgeting", acting_as={"display_name": "Pennywise"})["id"])
    by_bob = tpp.approve(tpp.store_request(ref_id="bob")["id"], user="bob-the-builder")
    grants = bank.http.get("/customers/alice/grants").json()["grants"]
    assert [g["token_id"] for g in grants] == [by_login.id]
    grant = grants[0]
    assert grant["tpp"] == {"app_id": tpp.app_id, "name": "Test tpp app"} and grant["acting_as"]["display_name"] == "Pennywise"
    assert [a["name"] for a in grant["accounts"]] == ["Everyday Account", "Euro Savings", "Rewards Card"]
    assert grant["resources"] == ["ACCOUNTS", "BALANCES", "TRANSACTIONS"]
    other_bank = Tpp(server, register_app("bank", name="Other bank app", bank_id="thistle-crown"))
    assert other_bank.http.get("/customers/alice/grants").status_code == 404
    assert other_bank.http.put(f"/customers/alice/grants/{by_login.id}/cancel").status_code == 404
    assert bank.http.put(f"/customers/alice/grants/{by_bob.id}/cancel").status_code == 404
    stopped = bank.http.put(f"/customers/alice/grants/{by_login.id}/cancel")
    assert stopped.status_code == 200 and stopped.json()["token"]["status"] == "CANCELLED"
    assert bank.http.put(f"/customers/alice/grants/{by_login.id}/cancel").json()["token"]["status"] == "CANCELLED"
    assert bank.http.get("/customers/alice/grants").json()["grants"] == []
    assert tpp.http.get(f"/tokens/{by_bob.id}").json()["token"]["status"] == "ACTIVE"
    assert "token.cancelled" in [e["type"] for e in tpp.http.get("/events").json()["events"]]


def test_the_customer_sees_their_grants_in_the_banks_app_and_stops_one(tpp, bank, server):
    trusted = Customer(server.url)
    stored = tpp.store_request(bank_id="sandbox")
    entry = trusted.http.get(f"{server.url}/app/request-token/{stored['id']}",
                             headers={"Authorization": f"Bearer {client_token(bank, strong_auth=True)}"})
    page = trusted.follow(entry)
    shared = query(trusted.decide(page, "allow", accounts=trusted.accounts(page)[:1]).headers["location"])["token-id"]
    app = Customer(server.url)
    grants = app.http.get(f"{server.url}/app/grants", headers={"Authorization": f"Bearer {client_token(bank)}"})
    assert grants.status_code == 200 and "Test tpp app" in grants.text and "Everyday Account" in grants.text
    assert client_token(bank) not in grants.text
    stopped = app.submit(grants, "Stop sharing")
    assert stopped.status_code == 303
    after = app.follow(stopped)
    assert "You stopped sharing" in after.text and "Everyday Account" not in after.text
    assert tpp.http.get(f"/tokens/{shared}").json()["token"]["status"] == "CANCELLED"
    stranger = Customer(server.url).get(f"{server.url}/app/grants")
    assert stranger.status_code == 403 and "Stop sharing" not in stranger.text
    forged = Customer(server.url).http.post(f"{server.url}/app/grants/{shared}/stop", data={"csrf": "x"})
    assert forged.status_code == 403
    assert forms(after) == [] or all(f.buttons == [] for f in forms(after))
