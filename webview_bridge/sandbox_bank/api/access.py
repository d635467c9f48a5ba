"""What every data call checks, in the order a bank would: the consent exists (403), is valid
(401), covers the account (404) and the service (401), and has calls left today (429)."""

from __future__ import annotations

from webview_bridge.sandbox_bank import frequency, store
from webview_bridge.sandbox_bank.api.http import Call
from webview_bridge.sandbox_bank.consents import Consent, require_account, require_service, require_usable
from webview_bridge.sandbox_bank.data import BankAccount, BankFacts, accounts_of, find_account
from webview_bridge.sandbox_bank.errors import Refusal


async def find_consent(call: Call, consent_id: str | None, *, path: str = "Consent-ID") -> Consent:
    if not consent_id:
        raise Refusal("FORMAT_ERROR", f"{path} is required", path)
    db = call.config.db
    consent = await db.run(store.get_consent, db, call.bank.id, consent_id)
    if consent is None:
        raise Refusal("CONSENT_UNKNOWN", "no such consent at this bank", path)
    return consent


async def valid_consent(call: Call) -> Consent:
    consent = await find_consent(call, call.header("Consent-ID"))
    require_usable(consent.status_on(call.today))
    return consent


def granted_accounts(call: Call, consent: Consent, *, cards: bool) -> list[BankAccount]:
    """The consent's accounts of one kind (payment accounts or card accounts), in the bank's order."""
    granted = set(consent.accounts)
    return [a for a in accounts_of(BankFacts.of(call.bank), consent.psu_id or "")
            if a.resource_id in granted and a.is_card == cards]


def granted_account(call: Call, consent: Consent, resource_id: str, *, cards: bool, service: str) -> BankAccount:
    require_account(consent.accounts, resource_id)
    account = find_account(BankFacts.of(call.bank), consent.psu_id or "", resource_id)
    if account is None or account.is_card != cards:  # a card is not under /v1/accounts, nor an account under /card-accounts
        raise Refusal("RESOURCE_UNKNOWN", "no such account under this consent", "account-id")
    require_service(consent.access, service)
    return account


async def count_call(call: Call, consent: Consent, endpoint: str, resource_id: str | None = None,
                     page_index: int = 0) -> None:
    if not frequency.counts(call.psu_ip_address, page_index):
        return
    db = call.config.db
    calls = await db.run(store.bump_usage, db, consent.id, frequency.usage_resource(endpoint, resource_id),
                         frequency.usage_day(call.now))
    frequency.check(calls, consent.frequency_per_day, call.now)
