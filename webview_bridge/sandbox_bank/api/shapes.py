"""The bank's data in the shapes of the Berlin Group file (accountDetails, cardAccountDetails,
balance, transactions, cardTransaction, trustedBeneficiary). Amounts are signed strings with two
decimals; debits are negative (debitAccounting false)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from webview_bridge.clock import rfc3339
from webview_bridge.sandbox_bank.data import Balances, BankAccount, Beneficiary, Entry, StandingOrder

Link = Callable[[str], str]  # a path under the bank (/v1/…) → its absolute href


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"currency": currency, "amount": f"{value:.2f}"}


def resource_path(account: BankAccount) -> str:
    return f"/v1/{'card-accounts' if account.is_card else 'accounts'}/{account.resource_id}"


def account_links(account: BankAccount, link: Link, *, balances: bool, transactions: bool) -> dict[str, Any]:
    """Links only to what the consent allows, as the file asks."""
    links: dict[str, Any] = {}
    if balances:
        links["balances"] = {"href": link(resource_path(account) + "/balances")}
    if transactions:
        links["transactions"] = {"href": link(resource_path(account) + "/transactions")}
    return links


def account_details(account: BankAccount, *, full: bool, owner: bool, links: dict[str, Any] | None = None,
                    balances: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """accountDetails. `full` is false at a bank without the account details API: its list names
    the account (the file wants an identifier) and nothing more."""
    found: dict[str, Any] = {"resourceId": account.resource_id, "iban": account.iban, "currency": account.currency,
                             "name": account.name}
    if full:
        found.update({"bban": account.bban, "product": account.product, "cashAccountType": account.cash_account_type,
                      "status": "enabled", "usage": "PRIV", "bic": account.bic})
    if owner:
        found["ownerName"] = account.owner_name
    if balances is not None:
        found["balances"] = balances
    if links:
        found["_links"] = links
    return found


def card_account_details(account: BankAccount, *, full: bool, owner: bool, links: dict[str, Any] | None = None,
                         balances: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"resourceId": account.resource_id, "maskedPan": account.masked_pan,
                             "currency": account.currency, "name": account.name}
    if full:
        found.update({"product": account.product, "status": "enabled", "usage": "PRIV", "debitAccounting": False,
                      "creditLimit": money(account.credit_limit or Decimal(0), account.currency)})
    if owner:
        found["ownerName"] = account.owner_name
    if balances is not None:
        found["balances"] = balances
    if links:
        found["_links"] = links
    return found


def balance_list(account: BankAccount, balances: Balances, now: datetime) -> list[dict[str, Any]]:
    """closingBooked (end of yesterday), expected (booked plus today's pending; not for savings,
    which have nothing pending worth projecting) and interimAvailable (spendable now, credit line included)."""
    found: list[dict[str, Any]] = [{
        "balanceAmount": money(balances.closing_booked, account.currency), "balanceType": "closingBooked",
        "referenceDate": balances.reference_date.isoformat(),
    }]
    if account.kind != "SAVINGS":
        found.append({"balanceAmount": money(balances.expected, account.currency), "balanceType": "expected",
                      "lastChangeDateTime": rfc3339(now)})
    found.append({"balanceAmount": money(balances.interim_available, account.currency), "balanceType": "interimAvailable",
                  "creditLimitIncluded": balances.credit_line > 0, "lastChangeDateTime": rfc3339(now)})
    return found


def transaction(account: BankAccount, entry: Entry, booked: bool, link: Link) -> dict[str, Any]:
    """A pending entry has no booking date yet; its value date is the day it was made."""
    found: dict[str, Any] = {"transactionId": entry.transaction_id, "entryReference": entry.transaction_id}
    if booked:
        found["bookingDate"] = entry.day.isoformat()
    found["valueDate"] = entry.day.isoformat()
    found["transactionAmount"] = money(entry.amount, entry.currency)
    found["creditorName" if entry.is_debit else "debtorName"] = entry.counterparty
    found["remittanceInformationUnstructured"] = entry.description
    found["_links"] = {"transactionDetails": {"href": link(f"{resource_path(account)}/transactions/{entry.transaction_id}")}}
    return found


def card_transaction(account: BankAccount, entry: Entry, booked: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"cardTransactionId": entry.transaction_id, "transactionDate": entry.day.isoformat(),
                             "acceptorTransactionDateTime": rfc3339(entry.at)}
    if booked:
        found["bookingDate"] = entry.day.isoformat()
    found.update({"transactionAmount": money(entry.amount, entry.currency), "maskedPAN": account.masked_pan,
                  "transactionDetails": entry.description, "invoiced": False})
    return found


def standing_order(order: StandingOrder) -> dict[str, Any]:
    """An entry of bookingStatus=information, as the file describes standing orders."""
    return {
        "transactionId": order.order_id,
        "creditorName": order.creditor_name,
        "creditorAccount": {"iban": order.creditor_iban, "currency": order.currency},
        "transactionAmount": money(-order.amount, order.currency),
        "remittanceInformationUnstructured": order.reference,
        "bankTransactionCode": "PMNT-ICDT-STDO",
        "additionalInformationStructured": {"standingOrderDetails": {
            "startDate": order.start_date.isoformat(), "frequency": order.frequency,
            "dayOfExecution": str(order.day_of_execution), "executionRule": "following",
        }},
    }


def beneficiary(account: BankAccount, found: Beneficiary) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "trustedBeneficiaryId": found.beneficiary_id,
        "debtorAccount": account.reference(),
        "creditorAccount": {"iban": found.creditor_iban, "currency": found.currency},
        "creditorAgent": found.creditor_bic,
        "creditorName": found.creditor_name,
    }
    if found.creditor_alias:
        entry["creditorAlias"] = found.creditor_alias
    return entry
