"""The xs2a connector against a bank that demands its TLS client certificate (the QWAC) and, where
configured, signs requests with its QSealC — both over real TLS on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
from datetime import date, datetime, timezone

import httpsig
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.aio import run
from tests.support.certs import ThrowawayCA
from tests.support.live import start_live_server
from tests.support.postgres import free_port
from webview_bridge.banks.connector import ConsentAsk, Customer
from webview_bridge.banks.directory import load_directory
from webview_bridge.banks.model import BankUnavailable
from webview_bridge.banks.registry import Banks
from webview_bridge.banks.xs2a.openapi import check_request
from webview_bridge.sandbox_bank.standalone import standalone_server

pytestmark = pytest.mark.databases("sqlite")  # about the transport, not storage


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    bank_ca, tpp_ca = ThrowawayCA(folder, "Bank CA"), ThrowawayCA(folder, "QTSP CA")
    return {"folder": folder, "bank_ca": bank_ca, "server": bank_ca.issue("127.0.0.1", server=True),
            "qwac": tpp_ca.issue("Our TPP QWAC"), "qsealc": tpp_ca.issue("Our TPP QSealC"), "tpp_ca": tpp_ca}


@pytest.fixture(scope="module")
def tls_bank(certificates, tmp_path_factory):
    """The sandbox bank alone, over https, refusing any client without a certificate from the TPP's CA."""
    port = free_port()
    db = tmp_path_factory.mktemp("bank") / "bank.db"
    server = standalone_server(port=port, database_url=f"sqlite:///{db}", tls_cert=str(certificates["server"].cert),
                               tls_key=str(certificates["server"].key), client_ca=str(certificates["tpp_ca"].issued.cert))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the TLS sandbox bank did not start"
        time.sleep(0.02)
    yield f"https://127.0.0.1:{port}/sandbox-bank/sandbox"
    server.should_exit = True
    thread.join(10)


def directory(tmp_path, certificates, base_url, **connector):
    entry = {"id": "sandbox", "name": "Sandbox Bank", "bic": "SNDBGB2L", "countries": ["GB"], "supports_balance": True,
             "supports_account_details_api": True,
             "connector": {"type": "xs2a", "base_url": base_url, "ca_bundle": str(certificates["bank_ca"].issued.cert),
                           **connector}}
    path = tmp_path / "banks.json"
    path.write_text(json.dumps({"banks": [entry]}))
    return load_directory(path)


def start_a_consent(found) -> tuple[object, list]:
    seen: list = []
    banks = Banks(found, base_url="http://unused", account_id=lambda bank, ref: "acc_" + ref,
                  now=lambda: datetime.now(timezone.utc), trusted_key=None)
    banks.observe = seen.append
    ask = ConsentAsk(resources=("ACCOUNTS",), valid_until=date(2030, 1, 1), return_url="https://us.example/cb?state=s",
                     app_name="Pennywise", customer=Customer("192.0.2.10", "Mozilla/5.0"))

    async def go():
        try:
            return await banks.start(found.get("sandbox"), ask)
        finally:
            await banks.aclose()

    return run(go()), seen


def test_with_its_qwac_the_connector_reaches_a_bank_that_demands_one(tmp_path, certificates, tls_bank):
    qwac = certificates["qwac"]
    started, seen = start_a_consent(directory(tmp_path, certificates, tls_bank, client_cert=str(qwac.cert),
                                              client_key=str(qwac.key)))
    assert started.redirect_url.startswith(tls_bank)
    (call,) = seen
    assert call.method == "POST" and call.path == "/v1/consents" and call.status == 201


def test_without_a_client_certificate_it_fails_cleanly_as_bank_unavailable(tmp_path, certificates, tls_bank):
    with pytest.raises(BankUnavailable):
        start_a_consent(directory(tmp_path, certificates, tls_bank))


def test_a_bank_whose_certificate_we_do_not_trust_is_unavailable(tmp_path, certificates, tls_bank):
    qwac = certificates["qwac"]
    found = directory(tmp_path, certificates, tls_bank, client_cert=str(qwac.cert), client_key=str(qwac.key))
    settings = found.connector_settings("sandbox")
    object.__setattr__(settings, "ca_bundle", certificates["tpp_ca"].issued.cert)  # the wrong CA for the bank
    with pytest.raises(BankUnavailable, match="TLS|ConnectError"):
        start_a_consent(found)


def test_requests_are_signed_with_the_qsealc_and_verify_with_its_public_certificate(tmp_path, certificates, tls_bank):
    qwac, seal = certificates["qwac"], certificates["qsealc"]
    _, seen = start_a_consent(directory(tmp_path, certificates, tls_bank, client_cert=str(qwac.cert),
                                        client_key=str(qwac.key), signing={"key": str(seal.key), "cert": str(seal.cert)}))
    (call,) = seen
    headers = {k.lower(): v for k, v in call.headers.items()}
    assert headers["digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(call.body).digest()).decode()
    sent_cert = x509.load_der_x509_certificate(base64.b64decode(headers["tpp-signature-certificate"]))
    assert sent_cert == x509.load_pem_x509_certificate(seal.cert.read_bytes())
    assert f'keyId="SN={sent_cert.serial_number:X},CA=' in headers["signature"]
    assert "CN=QTSP%20CA" in headers["signature"]
    assert 'headers="digest x-request-id tpp-redirect-uri date"' in headers["signature"]
    public = sent_cert.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    verifier = httpsig.HeaderVerifier(headers=headers, secret=public, required_headers=["digest", "x-request-id"],
                                      sign_header="signature")
    assert verifier.verify()
    tampered = httpsig.HeaderVerifier(headers={**headers, "x-request-id": "00000000-0000-4000-8000-000000000000"},
                                      secret=public, sign_header="signature")
    assert not tampered.verify()
    check_request(call)  # signed, and still what the Berlin Group file allows


@pytest.fixture
def bank_that_waits_for_every_read():
    """A plain-HTTP bank that answers none of the reads after a customer's return (the consent,
    its accounts, its card accounts) until all three have arrived: asked one after another, the
    first waits for ever, so the connector's time limit ends it."""
    expected = {"/v1/consents/c1", "/v1/accounts", "/v1/card-accounts"}
    arrived: set[str] = set()
    everything_arrived = asyncio.Event()
    answers = {
        "/v1/consents/c1/status": {"consentStatus": "valid"},
        "/v1/consents/c1": {"access": {"accounts": [{"iban": "DE02100100109307118603"}]}, "consentStatus": "valid"},
        "/v1/accounts": {"accounts": [{"resourceId": "r1", "iban": "DE02100100109307118603", "currency": "EUR",
                                       "name": "Girokonto"}]},
        "/v1/card-accounts": {"cardAccounts": []},
    }

    async def answer(request: Request) -> JSONResponse:
        path = request.url.path
        if path in expected:
            arrived.add(path)
            if arrived == expected:
                everything_arrived.set()
            await everything_arrived.wait()
        return JSONResponse(answers[path])

    live = start_live_server(Starlette(routes=[Route("/{path:path}", answer)]))
    yield live.url
    live.stop()


def test_after_the_customer_returns_the_consent_and_both_account_lists_are_read_at_once(
        tmp_path, bank_that_waits_for_every_read):
    """The customer waits on a blank screen for the slowest of the three reads, not for their sum."""
    path = tmp_path / "banks.json"
    path.write_text(json.dumps({"banks": [{
        "id": "waits", "name": "Waiting Bank", "bic": "WAITDEFF", "countries": ["DE"],
        "supports_account_details_api": True,
        "connector": {"type": "xs2a", "base_url": bank_that_waits_for_every_read, "timeout_seconds": 5},
    }]}))
    found = load_directory(path)
    banks = Banks(found, base_url="http://unused", account_id=lambda bank, ref: "acc_" + ref,
                  now=lambda: datetime.now(timezone.utc), trusted_key=None)

    async def go():
        try:
            return await banks.finish(found.get("waits"), json.dumps({"consent_id": "c1"}),
                                      Customer("192.0.2.10", "Mozilla/5.0"))
        finally:
            await banks.aclose()

    finished = run(go())
    assert finished.outcome == "granted"
    assert [account.name for account in finished.consent.accounts] == ["Girokonto"]
