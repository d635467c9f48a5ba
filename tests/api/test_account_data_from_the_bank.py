"""Account data comes from the bank through the token's stored consent (PROTOCOL §7, §11): a bank
that fails answers 503, never 500; reads are kept per token so the bank's daily allowance holds;
what the bank says of its consent is what the TPP hears; cancelling ends the consent at the bank."""

from __future__ import annotations

import json

import httpx2
import pytest

from webview_bridge.store import tokens as token_store


@pytest.fixture
def granted(tpp):
    return tpp.approve(tpp.store_request(resources=["ACCOUNTS", "BALANCES", "TRANSACTIONS", "FUNDS_CONFIRMATIONS"])["id"])


@pytest.fixture
def bank_log(app):
    """What the server asked the bank, as (method, path) in order."""
    seen: list[tuple[str, str, dict]] = []
    checker = app.state.runtime.banks.observe

    def observe(exchange):
        seen.append((exchange.method, exchange.path, dict(exchange.headers)))
        checker(exchange)

    app.state.runtime.banks.observe = observe
    return seen


def consent_id(tpp, token_id: str) -> str:
    runtime = tpp.server.runtime
    _token, sealed = token_store.get_sealed(runtime.db, token_id)
    return json.loads(token_store.open_consent(runtime.keyring, sealed, token_id))["consent_id"]


def test_rereads_are_answered_from_what_the_bank_said_so_its_daily_allowance_holds(tpp, granted, bank_log, clock):
    headers = tpp.on_behalf_of(granted.id)
    for _ in range(10):
        assert tpp.http.get("/accounts", headers=headers).status_code == 200
    reads = [(m, p) for m, p, _ in bank_log if p == "/v1/accounts"]
    assert reads == [("GET", "/v1/accounts")]
    assert all("PSU-IP-Address" not in h for _, p, h in bank_log if p.startswith("/v1/accounts"))  # not present
    clock.advance(hours=6)
    tpp.renew()
    tpp.http.get("/accounts", headers=headers)
    assert len([p for _, p, _ in bank_log if p == "/v1/accounts"]) == 2  # kept a quarter of a day


def test_a_bank_that_refuses_more_reads_today_is_429_bank_rate_limited(tpp, granted, app):
    from datetime import timedelta

    app.state.runtime.banks._cache.lifetime = timedelta(0)  # nothing kept: every read goes to the bank
    headers = tpp.on_behalf_of(granted.id)
    answers = [tpp.http.get(f"/accounts/{granted.account_ids[0]}/balance", headers=headers) for _ in range(5)]
    assert [a.status_code for a in answers[:4]] == [200] * 4  # frequencyPerDay 4, as the connector asked
    limited = answers[4]
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "bank_rate_limited")
    assert int(limited.headers["retry-after"]) > 0


def test_a_bank_that_is_down_answers_503_with_retry_after_never_500(tpp, granted, app):
    connector = app.state.runtime.banks._connector(app.state.runtime.banks.get("sandbox"))
    connector.base_url = "http://127.0.0.1:9"  # nothing listens there
    answer = tpp.http.get("/accounts", headers=tpp.on_behalf_of(granted.id))
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "bank_unavailable")
    assert int(answer.headers["retry-after"]) > 0


def test_a_consent_the_customer_revoked_at_the_bank_is_token_cancelled(tpp, granted, app):
    runtime = app.state.runtime
    revoked = httpx2.post(f"{tpp.server.url}/sandbox-bank/sandbox/trusted/consents/{consent_id(tpp, granted.id)}/revoke-by-psu",
                          headers={"Authorization": f"Bearer {runtime.sandbox_trusted_key}"})
    assert revoked.status_code == 204
    answer = tpp.http.get(f"/accounts/{granted.account_ids[0]}/transactions", headers=tpp.on_behalf_of(granted.id))
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "token_cancelled")
    assert tpp.http.get(f"/tokens/{granted.id}").json()["token"]["status"] == "CANCELLED"


def test_cancelling_ends_the_consent_at_the_bank_and_retries_while_it_is_down(tpp, granted, app, bank_log, clock):
    runtime = app.state.runtime
    worker = app.state.worker
    banks = runtime.banks
    connector = banks._connector(banks.get("sandbox"))
    real_url, connector.base_url = connector.base_url, "http://127.0.0.1:9"
    assert tpp.http.put(f"/tokens/{granted.id}/cancel").json()["token"]["status"] == "CANCELLED"
    from webview_bridge.store import outbox

    tpp.server.run(worker.run_due())
    assert outbox.pending(runtime.db, token_store.END_BANK_CONSENT) == 1  # still promised, to be retried
    connector.base_url = real_url
    clock.advance(minutes=1)
    tpp.server.run(worker.run_due())
    assert outbox.pending(runtime.db, token_store.END_BANK_CONSENT) == 0
    assert ("DELETE", f"/v1/consents/{consent_id(tpp, granted.id)}") in [(m, p) for m, p, _ in bank_log]
    status = httpx2.get(f"{tpp.server.url}/sandbox-bank/sandbox/v1/consents/{consent_id(tpp, granted.id)}/status",
                        headers={"X-Request-ID": "5f1b1c2e-7d1a-4c1e-9f6a-0e2b1c3d4e5f"}).json()
    assert status["consentStatus"] == "terminatedByTpp"


def test_funds_confirmation_asks_who_calls_before_reading_the_body(http, granted):
    unauthenticated = http.post(f"/accounts/{granted.account_ids[0]}/funds-confirmation", content=b"{not json",
                                headers={"On-Behalf-Of": granted.id, "Content-Type": "application/json"})
    assert unauthenticated.status_code == 401


def test_funds_confirmation_is_the_banks_answer(tpp, granted, bank_log):
    headers = tpp.on_behalf_of(granted.id)
    gbp = granted.account_ids[0]
    assert tpp.http.post(f"/accounts/{gbp}/funds-confirmation", headers=headers,
                         json={"amount": {"currency": "GBP", "value": "1.00"}}).json() == {"funds_available": True}
    assert ("POST", "/v1/funds-confirmations") in [(m, p) for m, p, _ in bank_log]
