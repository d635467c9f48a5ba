"""`webview-bridge sandbox-bank` on its own: over TLS it requires a client certificate from the
configured CA (as a bank requires the TPP's QWAC) and refuses the handshake without one."""

from __future__ import annotations

import ipaddress
import ssl
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from webview_bridge.clock import ManualClock
from webview_bridge.sandbox_bank.standalone import shared_secret, standalone_server
from tests.support.postgres import free_port

pytestmark = pytest.mark.databases("sqlite")  # about the transport, not storage


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None, *, ca: bool = False,
                 server: bool = False) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = issuer or (_name(subject), key)
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _client(ca: str, cert: tuple[str, str] | None) -> httpx2.Client:
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(*cert)
    return httpx2.Client(verify=context, timeout=10)


def test_the_standalone_bank_requires_a_client_certificate(database_url, tmp_path):
    bank_ca, bank_ca_key = _certificate("Sandbox Bank CA", None, ca=True)
    server_cert = _write(tmp_path, "server", *_certificate("127.0.0.1", (bank_ca.subject, bank_ca_key), server=True))
    ca_path = _write(tmp_path, "ca", bank_ca, bank_ca_key)[0]
    qwac = _write(tmp_path, "qwac", *_certificate("Example Operator", (bank_ca.subject, bank_ca_key)))
    stranger_ca, stranger_key = _certificate("Somebody Else CA", None, ca=True)
    forged = _write(tmp_path, "forged", *_certificate("Example Operator", (stranger_ca.subject, stranger_key)))

    port = free_port()
    server = standalone_server("127.0.0.1", port, database_url, tls_cert=server_cert[0], tls_key=server_cert[1],
                               client_ca=ca_path, validate=True, clock=ManualClock())
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the standalone bank did not start"
        time.sleep(0.01)
    url = f"https://127.0.0.1:{port}/sandbox-bank/sandbox/v1/consents/unknown/status"
    try:
        with _client(ca_path, qwac) as client:
            answer = client.get(url, headers={"X-Request-ID": str(uuid.uuid4())})
        assert answer.status_code == 403 and answer.json()["tppMessages"][0]["code"] == "CONSENT_UNKNOWN"
        for certificate in (None, forged):
            with _client(ca_path, certificate) as client, pytest.raises(httpx2.TransportError):
                client.get(url, headers={"X-Request-ID": str(uuid.uuid4())})
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_client_certificates_exist_only_over_tls(database_url):
    with pytest.raises(ValueError):
        standalone_server("127.0.0.1", free_port(), database_url, client_ca="/nowhere/ca.pem")


def test_the_standalone_bank_signs_its_pages_as_the_main_server_does(app):
    """Both on one database: a page served by one and posted to the other still passes its CSRF check."""
    runtime = app.state.runtime
    assert shared_secret(runtime.db, runtime.clock) == runtime.keyring.derive("sandbox-bank/pages")[0]
