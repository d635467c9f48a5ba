"""Berlin Group NextGenPSD2 data into the protocol's terms (PROTOCOL §7, §11), as plain functions.

Balance `current` ← closingBooked, else interimBooked, else expected; `available` ←
interimAvailable, else expected. A transaction's amount is its absolute value, DEBIT when the
bank's amount is negative, BOOKED or PENDING by the list it came in, booked at its booking date at
00:00Z. Ids the bank gives are carried inside ours, so a later call can name them to the bank.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from webview_bridge.banks.model import (
    Account, AccountDetails, Balance, Money, StandingOrder, Transaction, TransferDestination,
)

ACCESS_FOR_RESOURCE = {
    "ACCOUNTS": ("accounts",),
    "BALANCES": ("accounts", "balances"),
    "TRANSACTIONS": ("accounts", "transactions"),
    "STANDING_ORDERS": ("accounts", "transactions"),
    "TRANSFER_DESTINATIONS": ("accounts",),
    "FUNDS_CONFIRMATIONS": ("accounts",),
}
_CASH_ACCOUNT_TYPES = {"CACC": "CHECKING", "CASH": "CHECKING", "TRAN": "CHECKING", "SVGS": "SAVINGS", "MOMA": "SAVINGS",
                       "LOAN": "LOAN", "MGLD": "LOAN", "CARD": "CARD"}
_ACCOUNT_STATUS = {"enabled": "ACTIVE", "deleted": "CLOSED", "blocked": "BLOCKED"}
_FREQUENCIES = {"Daily": 1, "Weekly": 7, "EveryTwoWeeks": 14, "Monthly": 30, "EveryTwoMonths": 61, "Quarterly": 91,
                "SemiAnnual": 182, "Annual": 365, "MonthlyVariable": 30}


def consent_access(resources: Iterable[str]) -> dict[str, Any]:
    """A bank-offered consent's access: empty lists for what the resources need (and, with
    ACCOUNTS, the owner's name); the customer chooses the accounts at the bank."""
    wanted = set(resources)
    access: dict[str, Any] = {}
    for resource in wanted:
        for entry in ACCESS_FOR_RESOURCE[resource]:
            access[entry] = []
    additional = {}
    if "ACCOUNTS" in wanted:  # the holder's name belongs to the account details the protocol shows
        additional["ownerName"] = []
    if "TRANSFER_DESTINATIONS" in wanted:
        additional["trustedBeneficiaries"] = []
    if additional:
        access["additionalInformation"] = additional
    return dict(sorted(access.items()))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def transaction_id(bank_transaction_id: str) -> str:
    return "tx_" + _b64(bank_transaction_id)


def bank_transaction_id(our_id: str) -> str | None:
    """The bank's id inside one of ours; None for anything we did not make."""
    return _unb64(our_id[3:]) if our_id.startswith("tx_") and len(our_id) < 300 else None


def _money(raw: Mapping[str, Any]) -> tuple[str, Decimal]:
    try:
        return str(raw["currency"]), Decimal(str(raw["amount"]))
    except (KeyError, InvalidOperation) as exc:
        raise ValueError(f"not an amount: {exc}") from None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)


def reference_of(raw: Mapping[str, Any]) -> str | None:
    """How an account is named in a consent's access lists: its IBAN, BBAN or masked card number."""
    for key in ("iban", "bban", "maskedPan", "pan", "msisdn"):
        if raw.get(key):
            return f"{key}:{raw[key]}"
    return None


def gb_domestic(iban: str) -> dict[str, str] | None:
    """A UK IBAN carries the sort code and account number: GBkk BBBB SSSSSS AAAAAAAA."""
    if iban.startswith("GB") and len(iban) == 22:
        return {"sort_code": iban[8:14], "account_number": iban[14:22]}
    return None


def account(raw: Mapping[str, Any], *, our_id: str, bank_id: str, bank_bic: str, card: bool,
            with_details: bool) -> Account:
    kind = "CARD" if card else _CASH_ACCOUNT_TYPES.get(str(raw.get("cashAccountType", "")), "OTHER")
    name = raw.get("displayName") or raw.get("name") or raw.get("product") or ("Card" if card else "Account")
    details = None
    if with_details:
        identifiers: list[dict[str, Any]] = []
        identifier = ""
        if card:
            identifier = str(raw.get("maskedPan", ""))
        else:
            iban, bban = raw.get("iban"), raw.get("bban")
            if iban:
                domestic = gb_domestic(iban)
                if domestic:
                    identifiers.append({"gb_domestic": domestic})
                    identifier = domestic["account_number"]
                identifiers.append({"iban": {"iban": iban}})
            if bban:
                identifiers.append({"bban": {"bban": bban}})
                identifier = identifier or bban
            identifier = identifier or iban or ""
        details = AccountDetails(
            identifier=identifier, type=kind, status=_ACCOUNT_STATUS.get(str(raw.get("status", "enabled")), "ACTIVE"),
            bic=str(raw.get("bic") or bank_bic), account_holder_name=str(raw.get("ownerName") or ""),
            account_identifiers=identifiers,
        )
    return Account(our_id, str(name), kind, str(raw.get("currency", "XXX")), bank_id, details)


def balance(raw: Mapping[str, Any], account_id: str, now: datetime) -> Balance:
    by_type = {b.get("balanceType"): b for b in raw.get("balances", [])}

    def first(*types: str) -> Mapping[str, Any] | None:
        return next((by_type[t] for t in types if t in by_type), None)

    current = first("closingBooked", "interimBooked", "expected")
    available = first("interimAvailable", "expected") or current
    if current is None or available is None:
        raise ValueError("the bank gave no balance the protocol can use")
    moments = []
    for entry in (current, available):
        stamp = entry.get("lastChangeDateTime")
        if stamp:
            try:
                moments.append(datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(timezone.utc))
            except ValueError:
                pass
        elif (day := _day(entry.get("referenceDate"))) is not None:
            moments.append(_midnight(day))
    currency, current_value = _money(current["balanceAmount"])
    available_currency, available_value = _money(available["balanceAmount"])
    return Balance(account_id, Money(currency, current_value), Money(available_currency, available_value),
                   max(moments) if moments else now)


def _description(raw: Mapping[str, Any], negative: bool) -> str:
    text = raw.get("remittanceInformationUnstructured") or raw.get("transactionDetails")
    if not text and raw.get("remittanceInformationUnstructuredArray"):
        text = " ".join(raw["remittanceInformationUnstructuredArray"])
    if not text:
        text = raw.get("creditorName") if negative else raw.get("debtorName")
    return str(text or raw.get("creditorName") or raw.get("debtorName") or "")


def transaction(raw: Mapping[str, Any], status: str, today: date) -> Transaction:
    currency, value = _money(raw["transactionAmount"])
    bank_id = raw.get("transactionId") or raw.get("cardTransactionId") or raw.get("entryReference")
    if not bank_id:  # no id from the bank: one derived from what it said, stable across reads
        bank_id = "h:" + hashlib.sha256(repr(sorted(raw.items())).encode()).hexdigest()[:32]
    day = _day(raw.get("bookingDate")) or _day(raw.get("transactionDate")) or _day(raw.get("valueDate")) or today
    return Transaction(
        id=transaction_id(str(bank_id)), type="DEBIT" if value < 0 else "CREDIT", status=status,
        amount=Money(currency, abs(value)), description=_description(raw, value < 0), booked_at=_midnight(day),
    )


def transaction_page(report: Mapping[str, Any], today: date) -> list[Transaction]:
    """One page of an account report: booked and pending entries."""
    found = [transaction(t, "BOOKED", today) for t in report.get("booked") or []]
    found += [transaction(t, "PENDING", today) for t in report.get("pending") or []]
    return found


def newest_first(transactions: Iterable[Transaction]) -> list[Transaction]:
    """Pages may overlap at their edges: each transaction once, newest first, ties by id."""
    unique = {t.id: t for t in transactions}
    return sorted(unique.values(), key=lambda t: (t.booked_at, t.id), reverse=True)


def _next_run(start: date, every_days: int, day_of_execution: int | None, today: date) -> date:
    """The next execution on or after today of an order that started on `start`."""
    if every_days >= 28 and day_of_execution:  # monthly-ish: the given day of the month
        months = max(1, round(every_days / 30))
        candidate = start.replace(day=min(day_of_execution, 28))
        while candidate < today:
            month = candidate.month - 1 + months
            candidate = candidate.replace(year=candidate.year + month // 12, month=month % 12 + 1)
        return candidate
    candidate = start
    if candidate < today:
        steps = -(-(today - candidate).days // every_days)
        candidate += timedelta(days=steps * every_days)
    return candidate


def standing_order(raw: Mapping[str, Any], today: date) -> StandingOrder | None:
    details = (raw.get("additionalInformationStructured") or {}).get("standingOrderDetails")
    if not details:
        return None
    currency, value = _money(raw["transactionAmount"])
    start = _day(details.get("startDate")) or today
    frequency = str(details.get("frequency", "Monthly"))
    try:
        day_of_execution = int(details.get("dayOfExecution")) if details.get("dayOfExecution") else None
    except ValueError:
        day_of_execution = None
    creditor = raw.get("creditorAccount") or {}
    identifier = {"iban": {"iban": creditor["iban"]}} if creditor.get("iban") else \
        {"bban": {"bban": creditor["bban"]}} if creditor.get("bban") else {}
    end = _day(details.get("endDate"))
    next_date = _next_run(start, _FREQUENCIES.get(frequency, 30), day_of_execution, today)
    bank_id = raw.get("transactionId") or f"{creditor}-{start}-{value}"
    return StandingOrder(
        id="so_" + _b64(str(bank_id))[:60], amount=Money(currency, abs(value)),
        frequency=_frequency_name(frequency), next_payment_date=next_date,
        creditor_name=str(raw.get("creditorName") or ""), creditor_identifier=identifier,
        reference=str(raw.get("remittanceInformationUnstructured") or ""),
        status="ENDED" if end is not None and end < today else "ACTIVE",
    )


def _frequency_name(frequency: str) -> str:
    """Monthly → MONTHLY, EveryTwoWeeks → EVERY_TWO_WEEKS."""
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(frequency)).upper()


def transfer_destinations(raw: Mapping[str, Any]) -> list[TransferDestination]:
    found: list[TransferDestination] = []
    for entry in raw.get("trustedBeneficiaries") or []:
        account_ref = entry.get("creditorAccount") or {}
        name = entry.get("creditorName")
        iban = account_ref.get("iban")
        if iban:
            domestic = gb_domestic(iban)
            if domestic:
                found.append(TransferDestination("FASTER_PAYMENTS", domestic, name))
            found.append(TransferDestination("SEPA", {"iban": iban, **({"bic": entry["creditorAgent"]}
                                                                        if entry.get("creditorAgent") else {})}, name))
        elif account_ref.get("bban"):
            found.append(TransferDestination("DOMESTIC", {"bban": account_ref["bban"]}, name))
    return found


def covered_references(access: Mapping[str, Any]) -> set[str]:
    """The accounts a valid consent's access names, as references (iban:…, maskedPan:…)."""
    found: set[str] = set()
    for entry in ("accounts", "balances", "transactions"):
        for ref in access.get(entry) or []:
            if (key := reference_of(ref)) is not None:
                found.add(key)
    return found


def our_account_id(keyed_hash: Callable[[str], str], bank_id: str, resource_id: str) -> str:
    """Stable for one bank account, whichever consent reads it; keyed, so it says nothing of the bank's id."""
    return "acc_" + keyed_hash(f"account:{bank_id}:{resource_id}")[:32]
