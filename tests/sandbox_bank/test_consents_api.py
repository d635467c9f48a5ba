"""POST/GET/DELETE /v1/consents and what the bank refuses, with the file's codes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx2

from tests.sandbox_bank.conftest import BANK_OFFERED, PSU_IP, REDIRECT, granted_consent


def code_of(response: httpx2.Response) -> str:
    return response.json()["tppMessages"][0]["code"]


def test_a_consent_is_created_received_with_absolute_links(sandbox, tpp):
    created = tpp.create_consent()
    assert created.status_code == 201
    body = created.json()
    consent_id = body["consentId"]
    assert body["consentStatus"] == "received" and len(consent_id) >= 32
    self_href = f"{sandbox.url}/sandbox/v1/consents/{consent_id}"
    assert body["_links"]["self"]["href"] == created.headers["Location"] == self_href
    assert body["_links"]["status"]["href"] == self_href + "/status"
    assert body["_links"]["scaRedirect"]["href"].startswith(f"{sandbox.url}/sandbox/authorise/")
    assert created.headers["ASPSP-SCA-Approach"] == "REDIRECT"
    read = tpp.call("GET", body["_links"]["self"]["href"])
    assert read.json()["access"] == BANK_OFFERED and "Sandbox-PSU-ID" not in read.headers
    assert read.json()["consentStatus"] == "received"


def test_validity_beyond_what_the_bank_allows_is_shortened(sandbox, tpp):
    created = tpp.create_consent(body=tpp.consent_body() | {"validUntil": "9999-12-31"})
    valid_until = tpp.call("GET", f"/v1/consents/{created.json()['consentId']}").json()["validUntil"]
    assert valid_until == (sandbox.clock.now().date() + timedelta(days=180)).isoformat()


def test_refusals_of_consent_requests(sandbox, tpp):
    today = sandbox.clock.now().date()
    cases = [
        (tpp.create_consent(redirect=None), 400, "FORMAT_ERROR"),
        (tpp.create_consent(redirect="javascript:alert(1)"), 400, "FORMAT_ERROR"),
        (tpp.create_consent(access={"accounts": [{"iban": "DE02120300000000202051"}]}), 400, "PARAMETER_NOT_SUPPORTED"),
        (tpp.create_consent(access={"allPsd2": "allAccounts"}), 400, "PARAMETER_NOT_SUPPORTED"),
        (tpp.create_consent(access={}), 400, "FORMAT_ERROR"),
        (tpp.create_consent(body=tpp.consent_body() | {"combinedServiceIndicator": True}), 400, "SESSIONS_NOT_SUPPORTED"),
        (tpp.create_consent(valid_until=today - timedelta(days=1)), 400, "PERIOD_INVALID"),
        (tpp.create_consent(body=tpp.consent_body() | {"frequencyPerDay": 0}), 400, "FORMAT_ERROR"),
        (tpp.call("POST", "/v1/consents", json=tpp.consent_body(), headers={"TPP-Redirect-URI": REDIRECT}), 400,
         "FORMAT_ERROR"),  # no PSU-IP-Address
    ]
    for response, status, code in cases:
        assert (response.status_code, code_of(response)) == (status, code), response.text


def test_a_call_without_x_request_id_is_a_format_error_and_still_gets_one(sandbox):
    response = httpx2.get(f"{sandbox.url}/sandbox/v1/consents/x/status")
    assert response.status_code == 400 and code_of(response) == "FORMAT_ERROR"
    assert uuid.UUID(response.headers["X-Request-ID"])


def test_validating_mode_refuses_what_the_file_does_not_allow(sandbox_factory):
    """PSU-IP-Address is IPv4 in the file: the validating bank refuses an IPv6 one, the other does not."""
    strict, lenient = sandbox_factory(validate=True).tpp(), sandbox_factory(validate=False).tpp()
    for client, status in ((strict, 400), (lenient, 201)):
        response = client.call("POST", "/v1/consents", psu_ip="2001:db8::1", json=client.consent_body(),
                               headers={"TPP-Redirect-URI": REDIRECT})
        assert response.status_code == status, response.text
    assert "PSU-IP-Address" in strict.call("POST", "/v1/consents", psu_ip="::1", json=strict.consent_body(),
                                           headers={"TPP-Redirect-URI": REDIRECT}).json()["tppMessages"][0]["text"]
    strict.close()
    lenient.close()


def test_unknown_consents_are_consent_unknown(sandbox, tpp):
    for response in (tpp.call("GET", "/v1/consents/nope"), tpp.call("GET", "/v1/consents/nope/status"),
                     tpp.call("DELETE", "/v1/consents/nope"), tpp.get("/v1/accounts", "nope")):
        assert (response.status_code, code_of(response)) == (403, "CONSENT_UNKNOWN")


def test_a_consent_belongs_to_its_bank(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer)
    other = sandbox.tpp("thistle-crown")
    response = other.get("/v1/accounts", consent_id)
    assert (response.status_code, code_of(response)) == (403, "CONSENT_UNKNOWN")
    other.close()


def test_an_unauthorised_consent_reads_nothing(tpp):
    consent_id = tpp.create_consent().json()["consentId"]
    response = tpp.get("/v1/accounts", consent_id)
    assert (response.status_code, code_of(response)) == (401, "CONSENT_INVALID")


def test_delete_terminates_and_is_idempotent(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer)
    assert tpp.get("/v1/accounts", consent_id).status_code == 200
    deleted = tpp.call("DELETE", f"/v1/consents/{consent_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert tpp.status(consent_id) == "terminatedByTpp"
    refused = tpp.get("/v1/accounts", consent_id)
    assert (refused.status_code, code_of(refused)) == (401, "CONSENT_INVALID")
    assert tpp.call("DELETE", f"/v1/consents/{consent_id}").status_code == 204
    assert tpp.status(consent_id) == "terminatedByTpp"


def test_a_consent_expires_by_the_clock(sandbox, tpp, customer):
    valid_until = sandbox.clock.now().date() + timedelta(days=3)
    consent_id = granted_consent(tpp, customer, valid_until=valid_until)
    sandbox.clock.advance(days=3)  # validUntil includes its own day
    assert tpp.status(consent_id) == "valid"
    sandbox.clock.advance(days=1)
    assert tpp.status(consent_id) == "expired"
    read = tpp.call("GET", f"/v1/consents/{consent_id}").json()
    assert read["consentStatus"] == "expired" and read["lastActionDate"] == (valid_until + timedelta(days=1)).isoformat()
    refused = tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP)
    assert (refused.status_code, code_of(refused)) == (401, "CONSENT_EXPIRED")
    assert tpp.call("DELETE", f"/v1/consents/{consent_id}").status_code == 204
    assert tpp.status(consent_id) == "expired"  # an ended consent stays as it ended


def test_banks_in_maintenance_or_always_failing_are_unavailable(sandbox):
    for bank_id in ("hansekontor", "citta-eterna"):
        tpp = sandbox.tpp(bank_id)
        created = tpp.create_consent()
        assert (created.status_code, code_of(created)) == (503, "SERVICE_UNAVAILABLE")
        assert created.headers["Retry-After"]
        assert tpp.get("/v1/accounts", "any").status_code == 503
        page = sandbox.customer().open(f"{sandbox.url}/{bank_id}/authorise/" + "A" * 43)
        assert page.response.status_code == 503 and "not available right now" in page.html
        tpp.close()


def test_an_unknown_bank_is_not_found(sandbox):
    tpp = sandbox.tpp("no-such-bank")
    assert tpp.create_consent().status_code == 404
    assert sandbox.customer().open(f"{sandbox.url}/no-such-bank/authorise/" + "A" * 43).response.status_code == 404
    tpp.close()


def test_paths_and_methods_the_bank_does_not_serve(sandbox, tpp):
    assert tpp.call("GET", "/v1/payments/sepa-credit-transfers").status_code == 404
    assert tpp.call("PUT", "/v1/consents").status_code == 405
