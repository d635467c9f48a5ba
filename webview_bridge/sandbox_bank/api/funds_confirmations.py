"""POST /v1/funds-confirmations (PIIS): is this amount available on this account now?

The account is named by IBAN (or a card's maskedPan). With a Consent-ID header the account must be
one of that valid consent's; without one, any account of a customer who has authorised a consent
at this bank can be checked (standing in for the PIIS permission a customer gives at their bank).
"""

from __future__ import annotations

import re
from decimal import Decimal

from starlette.responses import JSONResponse, Response

from webview_bridge.sandbox_bank import data, store
from webview_bridge.sandbox_bank.api.access import granted_accounts, valid_consent
from webview_bridge.sandbox_bank.api.http import Call
from webview_bridge.sandbox_bank.data import BankAccount, BankFacts
from webview_bridge.sandbox_bank.errors import Refusal

_AMOUNT = re.compile(r"^[0-9]{1,14}(\.[0-9]{1,3})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _compact(iban: str) -> str:
    return iban.replace(" ", "").upper()


def _matches(account: BankAccount, reference: dict[str, object]) -> bool:
    if isinstance(reference.get("iban"), str):
        return account.iban is not None and _compact(account.iban) == _compact(str(reference["iban"]))
    if isinstance(reference.get("maskedPan"), str):
        return account.masked_pan == reference["maskedPan"]
    return False


def _amount(body: dict[str, object]) -> tuple[Decimal, str]:
    instructed = body.get("instructedAmount")
    if not isinstance(instructed, dict):
        raise Refusal("FORMAT_ERROR", "instructedAmount must be an object", "instructedAmount")
    amount, currency = instructed.get("amount"), instructed.get("currency")
    if not isinstance(amount, str) or not _AMOUNT.match(amount):
        raise Refusal("FORMAT_ERROR", "instructedAmount.amount must be a positive decimal string", "instructedAmount.amount")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise Refusal("FORMAT_ERROR", "instructedAmount.currency must be an ISO 4217 code", "instructedAmount.currency")
    return Decimal(amount), currency


async def _candidates(call: Call) -> list[BankAccount]:
    if call.header("Consent-ID"):
        consent = await valid_consent(call)
        return granted_accounts(call, consent, cards=False) + granted_accounts(call, consent, cards=True)
    db = call.config.db
    psus = await db.run(store.known_psus, db, call.bank.id)
    facts = BankFacts.of(call.bank)
    return [account for psu in psus for account in data.accounts_of(facts, psu)]


async def confirm(call: Call) -> Response:
    if not call.bank.supports_funds_confirmation:
        raise Refusal("SERVICE_INVALID", f"{call.bank.name} does not offer confirmation of funds")
    body = call.json
    if not isinstance(body, dict) or not isinstance(body.get("account"), dict):
        raise Refusal("FORMAT_ERROR", "account must be an account reference", "account")
    amount, currency = _amount(body)
    account = next((a for a in await _candidates(call) if _matches(a, body["account"])), None)
    if account is None:
        raise Refusal("RESOURCE_UNKNOWN", "no such account for confirmation of funds", "account", in_payload=True)
    if currency != account.currency:
        raise Refusal("PARAMETER_NOT_SUPPORTED", "this bank confirms funds in the account's currency only",
                      "instructedAmount.currency")
    available = data.balances(account, call.now).interim_available
    return JSONResponse({"fundsAvailable": amount <= available})
