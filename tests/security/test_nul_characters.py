"""A NUL character anywhere a caller can put text — a path, a query, credentials, a form, a JSON
body — is bad input: a 4xx in the protocol's shape on both databases (PostgreSQL cannot store or
even compare one, SQLite can), never a 500, and nothing is changed."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Tpp

NUL = "\x00"


@pytest.fixture
def bank(server, register_app):
    client = Tpp(server, register_app("bank", name="Sandbox Bank app", bank_id="sandbox"))
    yield client
    client.http.close()


def _refused(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def test_oauth_credentials_and_form_values_with_nul(http, register_app):
    creds = register_app("tpp")
    for form in (
        {"grant_type": "client_credentials", "client_id": f"app_{NUL}x", "client_secret": "s"},
        {"grant_type": "client_credentials", "client_id": creds.app_id, "client_secret": f"{creds.app_secret}{NUL}"},
        {"grant_type": f"client{NUL}", "client_id": creds.app_id, "client_secret": creds.app_secret},
        {"grant_type": "refresh_token", "refresh_token": f"x{NUL}", "client_id": creds.app_id,
         "client_secret": creds.app_secret},
    ):
        body = _refused(http.post("/oauth/token", data=form))
        assert body["error"] == "invalid_request" and "NUL" in body["error_description"]
    basic = base64.b64encode(f"app_%00x:secret".encode()).decode()
    body = _refused(http.post("/oauth/token", data={"grant_type": "client_credentials"},
                              headers={"Authorization": f"Basic {basic}"}))
    assert body["error"] == "invalid_request"
    revoked = _refused(http.post("/oauth/revoke", data={"token": f"t{NUL}", "client_id": creds.app_id,
                                                        "client_secret": creds.app_secret}))
    assert revoked["error"] == "invalid_request"
    # The app itself is untouched: its real credentials still work.
    assert http.post("/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(creds.app_id, creds.app_secret)).status_code == 200


@pytest.mark.parametrize("path", [
    "/tokens/tok_%00", "/token-requests/req_%00", "/token-requests/req_%00/result", "/accounts/acc%00",
    "/accounts/acc/transactions/t%00", "/webhooks/wh_%00", "/customizations/cus%00",
])
def test_ids_in_paths_with_nul(tpp, path):
    error = _refused(tpp.http.get(path))["error"]
    assert error["code"] == "invalid_request" and "NUL" in error["message"]


def test_queries_with_nul(tpp):
    for path in ("/tokens?status=ACTIVE%00", "/events?after=evt_%00", "/accounts?x=%00"):
        error = _refused(tpp.http.get(path))["error"]
        assert error["code"] == "invalid_request", path


def test_json_bodies_with_nul_change_nothing(tpp, bank):
    error = _refused(tpp.http.post("/token-requests", json={
        "resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": f"order{NUL}",
        "csrf_token": "csrf-token-0123456789",
    }))["error"]
    assert error["code"] == "invalid_value" and error["field"] == "ref_id"
    error = _refused(bank.http.put("/customers", json={"customers": [
        {"client_id": "alice", "phones": []}, {"client_id": f"bob{NUL}", "phones": []},
    ]}))["error"]
    assert error["code"] == "invalid_value" and error["field"] == "customers[1].client_id"
    issued = bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "alice"}])
    assert issued.status_code == 404, "the refused preload stored nobody"
    error = _refused(bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": f"a{NUL}"}]))
    assert error["error"]["code"] == "invalid_value" and error["error"]["field"] == "[0].client_id"
    error = _refused(tpp.http.post("/webhooks", json={"url": "https://tpp.example/hooks", f"e{NUL}": 1}))
    assert error["error"]["code"] == "unknown_field"
    assert tpp.http.get("/tokens").json()["tokens"] == []


def test_pages_with_nul(server, tpp, http):
    stored = tpp.store_request()
    page = http.get(f"/app/request-token/{stored['id']}%00")
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]
    chosen = http.post(f"/app/request-token/{stored['id']}/bank", data={"bank_id": f"sandbox{NUL}"})
    assert 400 <= chosen.status_code < 500


@pytest.mark.parametrize("path", [
    "/sandbox-bank/sandbox/v1/consents/c%00", "/sandbox-bank/sandbox/v1/consents/c%00/status",
    "/sandbox-bank/sandbox/v1/accounts?withBalance=%00", "/sandbox-bank/sandbox/v1/accounts/a%00/balances",
    "/sandbox-bank/sa%00ndbox/v1/accounts",
])
def test_the_sandbox_bank_with_nul(http, path):
    answer = http.get(path, headers={"X-Request-ID": "99391c7e-ad88-49ec-a2ad-99ddcb1f7721", "Consent-ID": "c\x01"})
    assert 400 <= answer.status_code < 500, answer.text
