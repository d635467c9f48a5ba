"""Signing requests with the TPP's QSealC, as the Berlin Group signing document asks: a `Digest`
of the body, a draft-cavage `Signature` over Digest, X-Request-ID, PSU-ID and TPP-Redirect-URI
(when present) and Date, with `keyId="SN=<serial hex>,CA=<issuer DN>"`, and the certificate itself
in `TPP-Signature-Certificate`. The signature scheme is httpsig's, not ours."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import httpsig
from cryptography import x509
from cryptography.hazmat.primitives import serialization

SIGNED_HEADERS = ("digest", "x-request-id", "psu-id", "psu-corporate-id", "tpp-redirect-uri", "date")


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def key_id(cert: x509.Certificate) -> str:
    """SN=<serial in hex>,CA=<issuer DN>, spaces percent-encoded as in the file's example."""
    return f"SN={cert.serial_number:X},CA={cert.issuer.rfc4514_string().replace(' ', '%20')}"


@dataclass(frozen=True)
class RequestSigner:
    key_pem: bytes
    cert: x509.Certificate

    @classmethod
    def from_files(cls, key: Path, cert: Path) -> RequestSigner:
        return cls(key.read_bytes(), x509.load_pem_x509_certificate(cert.read_bytes()))

    @property
    def certificate_header(self) -> str:
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def sign(self, headers: dict[str, str], body: bytes) -> dict[str, str]:
        """The headers to add to a request with these headers and this body."""
        present = {k.lower(): v for k, v in headers.items()}
        added = {"Digest": digest(body), "Date": formatdate(usegmt=True)}
        present.update({k.lower(): v for k, v in added.items()})
        names = [h for h in SIGNED_HEADERS if h in present]
        # httpsig fills its header template with %-formatting: a literal % in the keyId must be doubled.
        signer = httpsig.HeaderSigner(key_id(self.cert).replace("%", "%%"), self.key_pem, algorithm="rsa-sha256",
                                      headers=names, sign_header="signature")
        signed = signer.sign(present)
        return {**added, "Signature": signed["signature"], "TPP-Signature-Certificate": self.certificate_header}
