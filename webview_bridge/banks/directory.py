"""The bank directory (PROTOCOL §4): which banks exist, what each offers, and which connector
reaches it.

By default it is the shipped sandbox banks. An operator replaces or extends it with a directory
file (`serve --banks FILE`); the file is checked whole before anything is served, and a problem
stops the server with one line naming the bank and the field. Connector settings (certificates,
URLs) live apart from the banks, so no answer can show them.
"""

from __future__ import annotations

import json
import math
import re
import ssl
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SANDBOX_FILE = Path(__file__).parent / "sandbox_banks.json"

FEATURES = (
    "supports_account_details_api",
    "supports_balance",
    "supports_transactions_date_filter",
    "supports_standing_order",
    "supports_funds_confirmation",
    "requires_external_auth",
)


class DirectoryError(ValueError):
    """A directory file that cannot work; the message is one line naming the bank and field."""


@dataclass(frozen=True)
class Bank:
    id: str
    name: str
    bic: str
    countries: tuple[str, ...]
    status: str  # "available" | "maintenance"
    supports_account_details_api: bool = False
    supports_balance: bool = False
    supports_transactions_date_filter: bool = False
    supports_standing_order: bool = False
    supports_funds_confirmation: bool = False
    supports_information: bool = False
    requires_external_auth: bool = False
    colour: str = "#4f5966"  # the monogram's background when the bank has no logo
    logo: str | None = None  # a data: URI
    popular: bool = False  # shown in the "popular banks" group of the selection screen

    @property
    def monogram(self) -> str:
        words = [w for w in self.name.replace("&", " ").split() if w[:1].isupper()]
        return "".join(w[0] for w in words[:2]) or self.name[:1]

    @cached_property
    def monogram_text(self) -> str:
        """White or near-black, whichever reads better on the bank's colour (worked out once per bank)."""
        from webview_bridge.domain.customizations import contrast_ratio

        return max(("#ffffff", "#161a1f"), key=lambda text: contrast_ratio(text, self.colour))

    @cached_property
    def logo_uri(self) -> str:
        """The bank's own logo, or a tiny inline SVG monogram: no request to anyone, allowed by `img-src 'self' data:`."""
        if self.logo:
            return self.logo
        svg = (
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 40'>"
            f"<rect width='40' height='40' rx='8' fill='{self.colour}'/>"
            "<text x='20' y='26' font-family='sans-serif' font-size='16' font-weight='700' "
            f"text-anchor='middle' fill='{self.monogram_text}'>{self.monogram}</text></svg>"
        )
        return "data:image/svg+xml," + quote(svg, safe=" '=/:,")

    def supports(self, resource: str) -> bool:
        needs = {
            "BALANCES": self.supports_balance,
            "STANDING_ORDERS": self.supports_standing_order,
            "FUNDS_CONFIRMATIONS": self.supports_funds_confirmation,
        }
        return needs.get(resource, True)

    @property
    def available(self) -> bool:
        return self.status == "available"


@dataclass(frozen=True)
class Signing:
    key: Path
    cert: Path


@dataclass(frozen=True)
class ConnectorSettings:
    """How to reach one bank (PROTOCOL §11). Never shown in any answer."""

    type: str  # xs2a | sandbox
    base_url: str | None = None  # None for sandbox banks: this server's own sandbox bank
    client_cert: Path | None = None
    client_key: Path | None = None
    ca_bundle: Path | None = None
    signing: Signing | None = None
    psu_id_required: bool = False
    frequency_per_day: int = 4
    timeout_seconds: float = 20.0


# --- the file -------------------------------------------------------------------------------

_BIC = r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _SigningIn(_Strict):
    key: str = Field(min_length=1)
    cert: str = Field(min_length=1)


class _ConnectorIn(_Strict):
    type: Literal["xs2a", "sandbox"]
    base_url: str | None = Field(None, max_length=2000)
    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None
    signing: _SigningIn | None = None
    psu_id_required: bool = False
    frequency_per_day: int = Field(4, ge=1, le=100)
    timeout_seconds: float | int = Field(20, gt=0, le=120)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError("must be an https URL (http only on loopback)")
        if not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be a plain URL with a host and no query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> _ConnectorIn:
        if self.type == "xs2a" and self.base_url is None:
            raise ValueError("base_url is required for an xs2a bank")
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        return self


class _BankIn(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str = Field(min_length=1, max_length=100)
    bic: str = Field("", pattern=r"^$|" + _BIC[1:])
    countries: list[str] = Field(min_length=1, max_length=60)
    logo: str | None = Field(None, max_length=200_000, pattern=r"^data:image/(png|jpeg|webp|svg\+xml)[;,]")
    status: Literal["available", "maintenance"] = "available"
    supports_account_details_api: bool = False
    supports_balance: bool = False
    supports_transactions_date_filter: bool = False
    supports_standing_order: bool = False
    supports_funds_confirmation: bool = False
    supports_information: bool = False
    requires_external_auth: bool = False
    colour: str = Field("#4f5966", pattern=r"^#[0-9a-fA-F]{6}$")
    popular: bool = False
    connector: _ConnectorIn

    @field_validator("colour")
    @classmethod
    def _readable(cls, value: str) -> str:
        from webview_bridge.domain.customizations import MIN_CONTRAST, contrast_ratio

        if max(contrast_ratio("#ffffff", value), contrast_ratio("#161a1f", value)) < MIN_CONTRAST:
            raise ValueError(f"a monogram on {value} cannot reach {MIN_CONTRAST}:1 contrast; choose a darker or lighter colour")
        return value

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.match(r"^[A-Z]{2}$", code):
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code such as DE")
        return value


class _DirectoryIn(_Strict):
    include_sandbox: bool = False
    banks: list[_BankIn]


def _where(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _pem_problem(path: Path, kind: str) -> str | None:
    """Why a PEM file cannot be used, or None."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror})"
    except UnicodeDecodeError:
        return f"{path} is not PEM"
    marker = {"cert": "-----BEGIN CERTIFICATE-----", "key": "PRIVATE KEY-----"}[kind]
    if marker not in text:
        return f"{path} is not a PEM {'certificate' if kind == 'cert' else 'private key'}"
    return None


def _resolve(base: Path, given: str | None) -> Path | None:
    if given is None:
        return None
    path = Path(given)
    return path if path.is_absolute() else (base / path).resolve()


def _connector_settings(raw: _ConnectorIn, base: Path, where: str) -> ConnectorSettings:
    """Paths resolved against the file's folder; every certificate and key readable, PEM and matching."""
    problems: list[tuple[str, str]] = []
    cert, key, ca = _resolve(base, raw.client_cert), _resolve(base, raw.client_key), _resolve(base, raw.ca_bundle)
    signing = Signing(_resolve(base, raw.signing.key), _resolve(base, raw.signing.cert)) if raw.signing else None  # type: ignore[arg-type]
    for name, path, kind in (("client_cert", cert, "cert"), ("client_key", key, "key"), ("ca_bundle", ca, "cert"),
                             ("signing.cert", signing and signing.cert, "cert"), ("signing.key", signing and signing.key, "key")):
        if path is not None and (problem := _pem_problem(path, kind)):
            problems.append((name, problem))
    if not problems and cert and key:
        try:
            ssl.create_default_context().load_cert_chain(cert, key)
        except ssl.SSLError:
            problems.append(("client_key", "does not match client_cert"))
    if not problems and signing:
        if (problem := _key_matches(signing.cert, signing.key)) is not None:
            problems.append(("signing.key", problem))
    if not problems and ca:
        try:
            ssl.create_default_context(cafile=str(ca))
        except ssl.SSLError:
            problems.append(("ca_bundle", f"{ca} holds no usable certificate"))
    if problems:
        name, problem = problems[0]
        raise DirectoryError(f"{where}.connector.{name}: {problem}")
    return ConnectorSettings(
        type=raw.type, base_url=raw.base_url, client_cert=cert, client_key=key, ca_bundle=ca, signing=signing,
        psu_id_required=raw.psu_id_required, frequency_per_day=raw.frequency_per_day,
        timeout_seconds=float(raw.timeout_seconds),
    )


def _key_matches(cert_path: Path, key_path: Path) -> str | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        return f"cannot be loaded ({exc})"
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    same = cert.public_key().public_bytes(serialization.Encoding.PEM, public) == \
        key.public_key().public_bytes(serialization.Encoding.PEM, public)
    return None if same else "does not match signing.cert"


def _read(path: Path) -> tuple[_DirectoryIn, dict[str, Any]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DirectoryError(f"cannot read {path} ({exc.strerror})")
    except ValueError as exc:
        raise DirectoryError(f"{path} is not valid JSON ({exc})")
    try:
        return _DirectoryIn.model_validate(raw), raw
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        bank = ""
        if len(loc) >= 2 and loc[0] == "banks" and isinstance(loc[1], int):
            try:
                bank = f"bank {raw['banks'][loc[1]]['id']!r}: "
            except (KeyError, IndexError, TypeError):
                bank = ""
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        raise DirectoryError(f"{bank}{_where(loc) or 'the file'}: {message}")


def _bank(raw: _BankIn) -> Bank:
    values = raw.model_dump(exclude={"connector"})
    return Bank(**{**values, "countries": tuple(values["countries"])})


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Crédit Lumière' and 'credit lumiere' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ł", "l").replace("ø", "o")


@dataclass(frozen=True)
class BankQuery:
    ids: tuple[str, ...] = ()
    search: str | None = None
    countries: tuple[str, ...] = ()
    features: tuple[tuple[str, bool], ...] = ()
    sort: str = "name"
    page: int = 1
    per_page: int = 200


@dataclass(frozen=True)
class BankPage:
    banks: list[Bank]
    page: int
    per_page: int
    page_count: int
    total_count: int


@dataclass
class Directory:
    banks: tuple[Bank, ...]
    connectors: dict[str, ConnectorSettings]
    _by_id: dict[str, Bank] = field(init=False, repr=False)
    _folded: dict[str, tuple[str, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {b.id: b for b in self.banks}
        self._folded = {b.id: (fold(b.name), fold(b.bic)) for b in self.banks}

    def get(self, bank_id: str) -> Bank | None:
        return self._by_id.get(bank_id)

    def connector_settings(self, bank_id: str) -> ConnectorSettings:
        return self.connectors[bank_id]

    def find(self, query: BankQuery, among: tuple[Bank, ...] | None = None) -> BankPage:
        found = list(among if among is not None else self.banks)
        if query.ids:
            wanted = set(query.ids)
            found = [b for b in found if b.id in wanted]
        if query.search:
            needle = fold(query.search.strip())
            found = [b for b in found if needle in self._folded[b.id][0] or needle in self._folded[b.id][1]]
        if query.countries:
            countries = set(query.countries)
            found = [b for b in found if countries & set(b.countries)]
        for feature, wanted_value in query.features:
            found = [b for b in found if getattr(b, feature) is wanted_value]
        if query.sort == "country":
            found.sort(key=lambda b: (b.countries[0], self._folded[b.id][0]))
        else:
            found.sort(key=lambda b: self._folded[b.id][0])
        total = len(found)
        start = (query.page - 1) * query.per_page
        return BankPage(
            banks=found[start: start + query.per_page], page=query.page, per_page=query.per_page,
            page_count=max(1, math.ceil(total / query.per_page)), total_count=total,
        )


def _load_file(path: Path) -> tuple[bool, list[tuple[Bank, ConnectorSettings]]]:
    parsed, raw = _read(path)
    seen: set[str] = set()
    entries = []
    for index, bank_in in enumerate(parsed.banks):
        where = f"bank {bank_in.id!r}: banks[{index}]"
        if bank_in.id in seen:
            raise DirectoryError(f"{where}.id: another bank has this id")
        seen.add(bank_in.id)
        entries.append((_bank(bank_in), _connector_settings(bank_in.connector, path.parent, where)))
    return parsed.include_sandbox, entries


def load_directory(path: Path | None = None) -> Directory:
    """The sandbox banks, or the operator's file (with the sandbox banks too when it says
    `include_sandbox`). Raises DirectoryError naming the bank and field of the first problem."""
    _, sandbox = _load_file(SANDBOX_FILE)
    if path is None:
        entries = sandbox
    else:
        include_sandbox, entries = _load_file(Path(path))
        if include_sandbox:
            own = {bank.id for bank, _ in entries}
            clash = next((bank.id for bank, _ in sandbox if bank.id in own), None)
            if clash:
                raise DirectoryError(f"bank {clash!r}: its id is a sandbox bank's; rename it or leave out include_sandbox")
            entries = [*entries, *sandbox]
    return Directory(tuple(bank for bank, _ in entries), {bank.id: settings for bank, settings in entries})
