"""Consent rules: what a consent request may ask for, how a consent's status moves, what an
authorised consent grants and what a call needs from it. Plain values in, plain values out.

The sandbox offers bank-offered consents only (the accounts are chosen at the bank, PROTOCOL §4),
the REDIRECT SCA approach only, and no combined AIS/PIS sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from webview_bridge.sandbox_bank.data import BankAccount
from webview_bridge.sandbox_bank.errors import Refusal

RECEIVED, REJECTED, VALID = "received", "rejected", "valid"
REVOKED_BY_PSU, EXPIRED, TERMINATED_BY_TPP = "revokedByPsu", "expired", "terminatedByTpp"
OPEN = frozenset({RECEIVED, VALID})  # every other status is final

MAX_VALIDITY_DAYS = 180  # longer validUntil dates are shortened, as the file allows ("might get adjusted")
SERVICES = ("accounts", "balances", "transactions")
ADDITIONAL = ("ownerName", "trustedBeneficiaries")
_UNSUPPORTED_ACCESS = ("availableAccounts", "availableAccountsWithBalance", "allPsd2", "restrictedTo")


@dataclass(frozen=True)
class ConsentRequest:
    access: dict[str, Any]  # as asked: empty lists for the services wanted
    recurring: bool
    valid_until: date  # after adjustment
    frequency_per_day: int


@dataclass(frozen=True)
class Consent:
    id: str
    bank_id: str
    status: str  # as stored; status_on() adds expiry
    access: dict[str, Any]
    recurring: bool
    valid_until: date
    frequency_per_day: int
    redirect_uri: str | None
    nok_redirect_uri: str | None
    tpp_brand: str | None
    psu_id: str | None
    accounts: tuple[str, ...]  # resourceIds granted
    created_at: datetime
    status_changed_at: datetime

    def status_on(self, today: date) -> str:
        return effective_status(self.status, self.valid_until, today)

    def last_action_date(self, today: date) -> date:
        if self.status in OPEN and self.status_on(today) == EXPIRED:
            return self.valid_until + timedelta(days=1)  # the day it lapsed, though nobody wrote it down
        return self.status_changed_at.date()

    @property
    def way_back_nok(self) -> str | None:
        """Where a customer who did not grant goes: the nok URI when the TPP gave one."""
        return self.nok_redirect_uri or self.redirect_uri


def parse_flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise Refusal("FORMAT_ERROR", f"{name} must be true or false", name)
    return value


def parse_frequency(body: dict[str, Any]) -> int:
    value = body.get("frequencyPerDay")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Refusal("FORMAT_ERROR", "frequencyPerDay must be an integer of at least 1", "frequencyPerDay")
    return value


def parse_consent_request(body: Any, today: date) -> ConsentRequest:
    """The body of POST /v1/consents, checked."""
    if not isinstance(body, dict):
        raise Refusal("FORMAT_ERROR", "the body must be a JSON object")
    access = parse_access(body.get("access"))
    recurring = parse_flag(body, "recurringIndicator")
    if parse_flag(body, "combinedServiceIndicator"):
        raise Refusal("SESSIONS_NOT_SUPPORTED", "this bank does not combine account information and payments in one session",
                      "combinedServiceIndicator")
    return ConsentRequest(access, recurring, adjust_valid_until(body.get("validUntil"), today), parse_frequency(body))


def parse_access(access: Any) -> dict[str, Any]:
    if not isinstance(access, dict):
        raise Refusal("FORMAT_ERROR", "access must be an object", "access")
    for name in _UNSUPPORTED_ACCESS:
        if name in access:
            raise Refusal("PARAMETER_NOT_SUPPORTED", f"this bank does not offer access.{name}", f"access.{name}")
    kept: dict[str, Any] = {}
    for name in SERVICES:
        if name in access:
            kept[name] = _bank_offered(access[name], f"access.{name}")
    if not kept:
        raise Refusal("FORMAT_ERROR", "access must ask for accounts, balances or transactions", "access")
    additional = access.get("additionalInformation")
    if additional is not None:
        if not isinstance(additional, dict):
            raise Refusal("FORMAT_ERROR", "access.additionalInformation must be an object", "access.additionalInformation")
        kept["additionalInformation"] = {
            name: _bank_offered(additional[name], f"access.additionalInformation.{name}")
            for name in ADDITIONAL if name in additional
        }
    return kept


def _bank_offered(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise Refusal("FORMAT_ERROR", f"{path} must be an array", path)
    if value:
        raise Refusal("PARAMETER_NOT_SUPPORTED", "this bank offers bank-offered consents only: send empty lists and the "
                      "customer chooses the accounts at the bank", path)
    return []


def adjust_valid_until(raw: Any, today: date) -> date:
    if not isinstance(raw, str):
        raise Refusal("FORMAT_ERROR", "validUntil must be a date (YYYY-MM-DD)", "validUntil")
    try:
        asked = date.fromisoformat(raw)
    except ValueError:
        raise Refusal("FORMAT_ERROR", "validUntil must be a date (YYYY-MM-DD)", "validUntil") from None
    if asked < today:
        raise Refusal("PERIOD_INVALID", "validUntil is in the past", "validUntil")
    return min(asked, today + timedelta(days=MAX_VALIDITY_DAYS))


# --- lifecycle -------------------------------------------------------------------------------

def effective_status(stored: str, valid_until: date, today: date) -> str:
    """validUntil includes its own day; after it an open consent is expired without anyone saying so."""
    if stored in OPEN and today > valid_until:
        return EXPIRED
    return stored


def after_authorisation(status: str, granted: int) -> str:
    """The customer confirmed at the bank: valid with at least one account, else rejected."""
    if status != RECEIVED:
        raise Refusal("STATUS_INVALID", f"the consent is {status}, not awaiting authorisation")
    return VALID if granted > 0 else REJECTED


def after_cancel(status: str) -> str:
    """Cancel at the bank, or too many failed logins."""
    if status != RECEIVED:
        raise Refusal("STATUS_INVALID", f"the consent is {status}, not awaiting authorisation")
    return REJECTED


def after_delete(status: str) -> str:
    """DELETE by the TPP ends an open consent; an ended one stays as it ended (DELETE is idempotent)."""
    return TERMINATED_BY_TPP if status in OPEN else status


def after_revoke_by_psu(status: str) -> str:
    if status in (VALID, REVOKED_BY_PSU):
        return REVOKED_BY_PSU
    raise Refusal("STATUS_INVALID", f"the consent is {status}: only a valid consent can be revoked")


def require_usable(status: str) -> None:
    """Data calls need a valid consent."""
    if status == EXPIRED:
        raise Refusal("CONSENT_EXPIRED", "the consent has expired and needs to be renewed", "Consent-ID")
    if status != VALID:
        raise Refusal("CONSENT_INVALID", f"the consent is {status}", "Consent-ID")


# --- what a consent grants -------------------------------------------------------------------

def granted_access(requested: dict[str, Any], accounts: Sequence[BankAccount]) -> dict[str, Any]:
    """The access object of an authorised consent: every service asked for, over the accounts
    ticked. Balances and transactions imply the account itself, as the Berlin Group reads them."""
    refs = [a.reference() for a in accounts]
    granted: dict[str, Any] = {}
    if any(name in requested for name in SERVICES):
        granted["accounts"] = refs
    for name in ("balances", "transactions"):
        if name in requested:
            granted[name] = refs
    additional = requested.get("additionalInformation")
    if additional is not None:
        granted["additionalInformation"] = {}
        if "ownerName" in additional:
            granted["additionalInformation"]["ownerName"] = refs
        if "trustedBeneficiaries" in additional:
            granted["additionalInformation"]["trustedBeneficiaries"] = [a.reference() for a in accounts if not a.is_card]
    return granted


def covers(requested: dict[str, Any], service: str) -> bool:
    """Whether the consent was given for a service: accounts, balances, transactions, ownerName, trustedBeneficiaries."""
    if service == "accounts":
        return any(name in requested for name in SERVICES)
    if service in SERVICES:
        return service in requested
    return service in (requested.get("additionalInformation") or {})


def require_service(requested: dict[str, Any], service: str) -> None:
    if not covers(requested, service):
        raise Refusal("CONSENT_INVALID", f"the consent does not cover {service}", "Consent-ID")


def require_account(granted: Iterable[str], resource_id: str) -> None:
    """An account outside the consent is unknown to the TPP: 404, saying nothing of whether it exists."""
    if resource_id not in set(granted):
        raise Refusal("RESOURCE_UNKNOWN", "no such account under this consent", "account-id")
