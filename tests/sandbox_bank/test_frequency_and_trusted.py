"""frequencyPerDay as the bank counts it, and the sandbox-only trusted API."""

from __future__ import annotations

from datetime import timedelta

import httpx2

from webview_bridge.sandbox_bank import data
from tests.sandbox_bank.conftest import BANK_OFFERED, PSU_IP, TRUSTED_KEY, get_bank, granted_consent, plain_tls
from tests.sandbox_bank.test_consents_api import code_of


def test_frequency_per_day_counts_calls_without_the_customer(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer, frequency=4)
    accounts = tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP).json()["accounts"]
    everyday, savings = accounts[0]["resourceId"], accounts[1]["resourceId"]
    balances = f"/v1/accounts/{everyday}/balances"
    for _ in range(4):
        assert tpp.get(balances, consent_id).status_code == 200
    fifth = tpp.get(balances, consent_id)
    assert (fifth.status_code, code_of(fifth)) == (429, "ACCESS_EXCEEDED")
    assert 0 < int(fifth.headers["Retry-After"]) <= 16 * 3600  # until the next UTC midnight (it is 08:00)
    assert tpp.get(balances, consent_id, psu_ip=PSU_IP).status_code == 200  # the customer is there: not counted
    # Per account and per endpoint: the other account's balances, and this account's details, still answer.
    assert tpp.get(f"/v1/accounts/{savings}/balances", consent_id).status_code == 200
    assert tpp.get(f"/v1/accounts/{everyday}", consent_id).status_code == 200
    sandbox.clock.advance(hours=15, minutes=59)  # 23:59 UTC: still the same day
    assert tpp.get(balances, consent_id).status_code == 429
    sandbox.clock.advance(minutes=1)  # a new UTC day
    assert tpp.get(balances, consent_id).status_code == 200


def test_following_a_reports_pages_counts_once(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer, frequency=1)
    account_id = tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP).json()["accounts"][0]["resourceId"]
    path = f"/v1/accounts/{account_id}/transactions"
    date_from = (sandbox.clock.now().date() - timedelta(days=200)).isoformat()
    report = tpp.get(path, consent_id, bookingStatus="both", dateFrom=date_from).json()
    pages = 1
    while "next" in report["transactions"]["_links"]:
        response = tpp.get(report["transactions"]["_links"]["next"]["href"], consent_id)
        assert response.status_code == 200
        report, pages = response.json(), pages + 1
    assert pages > 1
    again = tpp.get(path, consent_id, bookingStatus="both", dateFrom=date_from)
    assert (again.status_code, code_of(again)) == (429, "ACCESS_EXCEEDED")


def trusted(sandbox, method: str, path: str, key: str | None = TRUSTED_KEY, **kwargs) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx2.request(method, f"{sandbox.url}/sandbox{path}", headers=headers, verify=plain_tls(), **kwargs)


def test_trusted_accounts_of_a_customer(sandbox):
    listed = trusted(sandbox, "GET", "/trusted/psus/alice/accounts").json()
    assert [a["name"] for a in listed["accounts"]] == ["Everyday Account", "Euro Savings"]
    assert [c["name"] for c in listed["cardAccounts"]] == ["Rewards Card"]
    assert listed["accounts"][0]["ownerName"] == "Alice Andersson" and listed["cardAccounts"][0]["maskedPan"]
    assert trusted(sandbox, "GET", "/trusted/psus/bob/accounts").json() == {"accounts": [], "cardAccounts": []}
    odd = trusted(sandbox, "GET", "/trusted/psus/zo%C3%AB/accounts")  # not a login name this bank gives out
    assert (odd.status_code, code_of(odd)) == (400, "FORMAT_ERROR")


def test_a_trusted_consent_is_valid_at_once_for_exactly_its_accounts(sandbox, tpp):
    alice = data.accounts_of(data.BankFacts.of(get_bank("sandbox")), "alice")
    chosen = [alice[0].resource_id, alice[2].resource_id]
    valid_until = (sandbox.clock.now().date() + timedelta(days=30)).isoformat()
    created = trusted(sandbox, "POST", "/trusted/consents", json={
        "psuId": "alice", "access": BANK_OFFERED, "accounts": chosen, "validUntil": valid_until,
        "frequencyPerDay": 4, "recurringIndicator": True})
    assert created.status_code == 201
    consent_id = created.json()["consentId"]
    assert created.json() == {"consentId": consent_id, "consentStatus": "valid"}
    read = tpp.call("GET", f"/v1/consents/{consent_id}")
    assert read.headers["Sandbox-PSU-ID"] == "alice" and read.json()["validUntil"] == valid_until
    assert [a["resourceId"] for a in tpp.get("/v1/accounts", consent_id).json()["accounts"]] == [chosen[0]]
    assert [c["resourceId"] for c in tpp.get("/v1/card-accounts", consent_id).json()["cardAccounts"]] == [chosen[1]]
    refused = trusted(sandbox, "POST", "/trusted/consents", json={
        "psuId": "alice", "access": BANK_OFFERED, "accounts": ["not-hers"], "validUntil": valid_until,
        "frequencyPerDay": 4, "recurringIndicator": True})
    assert (refused.status_code, code_of(refused)) == (400, "RESOURCE_UNKNOWN")


def test_revoke_by_psu(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer)
    revoked = trusted(sandbox, "POST", f"/trusted/consents/{consent_id}/revoke-by-psu")
    assert revoked.status_code == 204
    assert tpp.status(consent_id) == "revokedByPsu"
    refused = tpp.get("/v1/accounts", consent_id)
    assert (refused.status_code, code_of(refused)) == (401, "CONSENT_INVALID")
    pending = tpp.create_consent().json()["consentId"]
    not_yet = trusted(sandbox, "POST", f"/trusted/consents/{pending}/revoke-by-psu")
    assert (not_yet.status_code, code_of(not_yet)) == (409, "STATUS_INVALID")
    assert tpp.status(pending) == "received"
    unknown = trusted(sandbox, "POST", "/trusted/consents/nope/revoke-by-psu")
    assert (unknown.status_code, code_of(unknown)) == (403, "CONSENT_UNKNOWN")


def test_the_trusted_api_needs_its_key(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer)
    for key in (None, "wrong-key"):
        for method, path in (("GET", "/trusted/psus/alice/accounts"), ("POST", f"/trusted/consents/{consent_id}/revoke-by-psu")):
            response = trusted(sandbox, method, path, key=key)
            assert (response.status_code, code_of(response)) == (401, "TOKEN_INVALID")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert tpp.status(consent_id) == "valid"


def test_without_a_trusted_key_the_trusted_api_does_not_exist(sandbox_factory):
    sandbox = sandbox_factory(trusted_key=None)
    for method, path in (("GET", "/trusted/psus/alice/accounts"), ("POST", "/trusted/consents"),
                         ("POST", "/trusted/consents/x/revoke-by-psu")):
        assert trusted(sandbox, method, path, key="anything").status_code == 404
