"""The sandbox bank's customers and their money.

Logins (PROTOCOL §4): alice (three accounts, GBP and EUR, one of them a card), bob (no accounts),
carol (two accounts; asks for the one-time code 123456); password `sandbox` for all. Any other
login gets a generated profile. Everything is derived from hashes of the bank, the customer and
the date, so the same question always gets the same answer, on every instance, and tests can
assert on it. Worked out once per (bank, customer) or (account, day): nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

PASSWORD = "sandbox"
ONE_TIME_CODE = "123456"
HISTORY_DAYS = 400  # a little over 13 months

# (name, kind, currency) per login; other customers get a generated list.
PROFILES: dict[str, list[tuple[str, str, str]]] = {
    "alice": [("Everyday Account", "CHECKING", "GBP"), ("Euro Savings", "SAVINGS", "EUR"), ("Rewards Card", "CARD", "GBP")],
    "bob": [],
    "carol": [("Current Account", "CHECKING", "EUR"), ("Rainy Day Savings", "SAVINGS", "EUR")],
}
HOLDERS = {"alice": "Alice Andersson", "bob": "Bob Brennan", "carol": "Carol Castellano"}
NEEDS_SECOND_FACTOR = frozenset({"carol"})

CASH_ACCOUNT_TYPES = {"CHECKING": "CACC", "SAVINGS": "SVGS", "CARD": "CARD"}
PRODUCTS = {"CHECKING": "Current Account", "SAVINGS": "Instant Saver", "CARD": "Credit Card"}
OVERDRAFT = Decimal("500.00")  # every current account's arranged overdraft

_MERCHANTS_DEBIT = [
    "Corner Grocer", "City Transit", "Coffee & Co", "Bookshop on the Square", "Streaming Plus", "Fuel Station 24",
    "Pharmacy Central", "Bakery Morning Glory", "Electric Utility", "Mobile Network", "Restaurant Olivo", "Cinema Lux",
]
_MERCHANTS_CREDIT = ["Salary", "Refund", "Transfer from savings", "Interest"]
_BENEFICIARIES = [
    ("Landlord Lettings Ltd", "Landlord"), ("Electric Utility", None), ("Maria Andersson", "Mum"),
    ("Pennine Savings", "Savings pot"), ("Tax Office", None), ("Green Gym Club", "Gym"),
]
_STANDING_ORDER_PLANS = [("Landlord Lettings Ltd", "RENT", 95_000), ("Savings top-up", "SAVE", 20_000)]


def _digest(*parts: str) -> bytes:
    return hashlib.sha256(":".join(parts).encode()).digest()


def _number(seed: bytes, low: int, high: int) -> int:
    return low + int.from_bytes(seed[:8], "big") % (high - low + 1)


def _opaque(*parts: str) -> str:
    return base64.urlsafe_b64encode(_digest(*parts)[:16]).rstrip(b"=").decode()


def _digits(seed: bytes, count: int) -> str:
    return "".join(str(b % 10) for b in (seed * 4)[:count])


def iban(country: str, bban: str) -> str:
    """A well-formed IBAN (ISO 13616 mod-97 check digits) for a country and BBAN."""
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def normalise_login(username: str) -> str:
    return username.strip().lower()


@dataclass(frozen=True)
class BankFacts:
    """What the data depends on, taken from a directory entry (hashable, so results are cached)."""

    id: str
    bic: str
    countries: tuple[str, ...]

    @classmethod
    def of(cls, bank: Any) -> BankFacts:
        return cls(bank.id, bank.bic, tuple(bank.countries))


@dataclass(frozen=True)
class BankAccount:
    resource_id: str
    name: str
    kind: str  # CHECKING | SAVINGS | CARD
    currency: str
    iban: str | None
    bban: str | None
    masked_pan: str | None
    bic: str
    owner_name: str
    credit_limit: Decimal | None  # cards only

    @property
    def is_card(self) -> bool:
        return self.kind == "CARD"

    @property
    def cash_account_type(self) -> str:
        return CASH_ACCOUNT_TYPES[self.kind]

    @property
    def product(self) -> str:
        return PRODUCTS[self.kind]

    def reference(self) -> dict[str, str]:
        """How a consent names the account (Berlin Group accountReference)."""
        if self.is_card:
            return {"maskedPan": self.masked_pan or "", "currency": self.currency}
        return {"iban": self.iban or "", "currency": self.currency}


def holder_name(psu_id: str) -> str:
    return HOLDERS.get(psu_id) or " ".join(p.capitalize() for p in psu_id.replace("-", " ").replace(".", " ").split()) or "Customer"


def _profile(psu_id: str) -> list[tuple[str, str, str]]:
    if psu_id in PROFILES:
        return PROFILES[psu_id]
    seed = _digest("profile", psu_id)
    choices = [("Current Account", "CHECKING", "EUR"), ("Savings Account", "SAVINGS", "EUR"),
               ("Sterling Account", "CHECKING", "GBP"), ("Credit Card", "CARD", "EUR")]
    return choices[: _number(seed, 1, 3)]


@lru_cache(maxsize=4096)
def accounts_of(bank: BankFacts, psu_id: str) -> tuple[BankAccount, ...]:
    """Every account the customer holds at this bank, current accounts and cards alike."""
    return tuple(_account(bank, psu_id, i, *spec) for i, spec in enumerate(_profile(psu_id)))


def _account(bank: BankFacts, psu_id: str, index: int, name: str, kind: str, currency: str) -> BankAccount:
    seed = _digest("number", bank.id, psu_id, str(index))
    resource_id = _opaque("account", bank.id, psu_id, str(index))
    owner = holder_name(psu_id)
    if kind == "CARD":
        masked = f"4{_digits(seed[20:], 5)}xxxxxx{_digits(seed[10:], 4)}"
        limit = Decimal(_number(seed[12:], 2, 8) * 1000)
        return BankAccount(resource_id, name, kind, currency, None, None, masked, bank.bic, owner, limit)
    if currency == "GBP":
        bban = bank.bic[:4] + _digits(seed, 6) + _digits(seed[6:], 8)
        country = "GB"
    else:
        bban = _digits(seed, 18)
        country = next((c for c in bank.countries if c != "GB"), "DE")
    return BankAccount(resource_id, name, kind, currency, iban(country, bban), bban, None, bank.bic, owner, None)


def find_account(bank: BankFacts, psu_id: str, resource_id: str) -> BankAccount | None:
    return next((a for a in accounts_of(bank, psu_id) if a.resource_id == resource_id), None)


# --- transactions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One transaction. Its id starts with its day and number that day, so it is found without a search."""

    transaction_id: str
    day: date
    at: datetime
    amount: Decimal  # signed: negative leaves the account
    currency: str
    counterparty: str  # the creditor of a debit, the debtor of a credit
    description: str

    @property
    def is_debit(self) -> bool:
        return self.amount < 0


def _transaction_id(resource_id: str, day: date, index: int) -> str:
    return f"{day:%Y%m%d}{index}{_digest('tx', resource_id, day.isoformat(), str(index)).hex()[:16]}"


@lru_cache(maxsize=65536)
def entries_on(account: BankAccount, day: date) -> tuple[Entry, ...]:
    """The account's transactions of one day, at whatever time of day each happened."""
    seed = _digest("day", account.resource_id, day.isoformat())
    busy = account.kind in ("CHECKING", "CARD")
    count = seed[0] % 4 if busy else (1 if seed[0] % 9 == 0 else 0)
    found = []
    for i in range(count):
        item = _digest("tx", account.resource_id, day.isoformat(), str(i))
        payday = day.day == 28 and i == 0
        credit = account.kind == "SAVINGS" or payday or item[1] % 11 == 0
        if credit:
            if account.is_card:
                description = "Card repayment" if payday else "Refund"
            else:
                description = "Salary" if payday else _MERCHANTS_CREDIT[item[2] % len(_MERCHANTS_CREDIT)]
            cents = _number(item, 250_000, 420_000) if description == "Salary" else _number(item, 500, 40_000)
            counterparty = "Employer plc" if description == "Salary" else account.owner_name if description in (
                "Transfer from savings", "Card repayment") else "Sandbox Bank" if description == "Interest" else "Online Shop"
        else:
            description = _MERCHANTS_DEBIT[item[2] % len(_MERCHANTS_DEBIT)]
            cents = -_number(item, 150, 18_000)
            counterparty = description
        at = datetime.combine(day, time(0, 0), tzinfo=timezone.utc) + timedelta(seconds=_number(item[8:], 21_600, 79_200))
        found.append(Entry(_transaction_id(account.resource_id, day, i), day, at, Decimal(cents) / 100,
                           account.currency, counterparty, description))
    return tuple(found)


def _newest_first(entry: Entry) -> tuple[datetime, str]:
    return entry.at, entry.transaction_id


def history(account: BankAccount, now: datetime, date_from: date | None, date_to: date | None,
            ) -> tuple[list[Entry], list[Entry]]:
    """(pending, booked), each newest first. Today's transactions are pending until tomorrow;
    nothing happens before the history starts or after `now`."""
    today = now.date()
    first = today - timedelta(days=HISTORY_DAYS)
    if date_from is not None:
        first = max(first, date_from)
    last = today if date_to is None else min(today, date_to)
    pending: list[Entry] = []
    booked: list[Entry] = []
    day = last
    while day >= first:
        for entry in entries_on(account, day):
            if entry.at <= now:
                (pending if day == today else booked).append(entry)
        day -= timedelta(days=1)
    pending.sort(key=_newest_first, reverse=True)
    booked.sort(key=_newest_first, reverse=True)
    return pending, booked


def find_entry(account: BankAccount, transaction_id: str, now: datetime) -> tuple[Entry, bool] | None:
    """The transaction and whether it is booked; None for an id that is not this account's."""
    try:
        day = datetime.strptime(transaction_id[:8], "%Y%m%d").date()
    except ValueError:
        return None
    if not (now.date() - timedelta(days=HISTORY_DAYS) <= day <= now.date()):
        return None
    for entry in entries_on(account, day):
        if entry.transaction_id == transaction_id and entry.at <= now:
            return entry, day < now.date()
    return None


# --- balances -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balances:
    closing_booked: Decimal  # at the end of yesterday
    expected: Decimal  # booked plus today's pending items
    interim_available: Decimal  # what can be spent now, credit line included
    credit_line: Decimal
    reference_date: date


def balances(account: BankAccount, now: datetime) -> Balances:
    seed = _digest("balance", account.resource_id)
    if account.is_card:
        closing = -Decimal(_number(seed, 1_000, 150_000)) / 100
        credit_line = account.credit_limit or Decimal(0)
    else:
        closing = Decimal(_number(seed, 20_000, 900_000)) / 100
        credit_line = OVERDRAFT if account.kind == "CHECKING" else Decimal("0.00")
    today = now.date()
    expected = closing + sum((e.amount for e in entries_on(account, today) if e.at <= now), Decimal(0))
    return Balances(closing, expected, expected + credit_line, credit_line, today - timedelta(days=1))


# --- standing orders and trusted beneficiaries ----------------------------------------------

@dataclass(frozen=True)
class StandingOrder:
    order_id: str
    creditor_name: str
    creditor_iban: str
    amount: Decimal  # what each payment takes, positive
    currency: str
    reference: str
    start_date: date
    day_of_execution: int
    frequency: str  # Berlin Group frequencyCode


def standing_orders(account: BankAccount) -> list[StandingOrder]:
    """Only current accounts pay standing orders."""
    if account.kind != "CHECKING":
        return []
    orders = []
    for i, (creditor, reference, cents) in enumerate(_STANDING_ORDER_PLANS):
        seed = _digest("so", account.resource_id, str(i))
        day_of_month = _number(seed, 1, 28)
        start = date(2024, _number(seed[8:], 1, 12), day_of_month)
        creditor_iban = iban("GB", "LAND" + _digits(seed, 14)) if account.currency == "GBP" else iban("DE", _digits(seed, 18))
        orders.append(StandingOrder(f"so{_digest('so-id', account.resource_id, str(i)).hex()[:20]}", creditor, creditor_iban,
                                    Decimal(cents) / 100, account.currency, reference, start, day_of_month, "Monthly"))
    return orders


@dataclass(frozen=True)
class Beneficiary:
    beneficiary_id: str  # a UUID, as the extension's pattern asks
    creditor_name: str
    creditor_alias: str | None
    creditor_iban: str
    creditor_bic: str
    currency: str


def trusted_beneficiaries(account: BankAccount) -> list[Beneficiary]:
    """A short list (two to four) per payment account; cards pay no one."""
    if account.is_card:
        return []
    seed = _digest("beneficiaries", account.resource_id)
    count = _number(seed, 2, 4)
    start = seed[8] % len(_BENEFICIARIES)
    country = (account.iban or "DE")[:2]
    found = []
    for i in range(count):
        name, alias = _BENEFICIARIES[(start + i) % len(_BENEFICIARIES)]
        item = _digest("beneficiary", account.resource_id, str(i))
        bic = "".join(chr(65 + b % 26) for b in item[:4]) + country + "2L"
        bban = bic[:4] + _digits(item, 14) if country == "GB" else _digits(item, 18)
        found.append(Beneficiary(str(uuid.UUID(bytes=item[:16], version=4)), name, alias, iban(country, bban), bic,
                                 account.currency))
    return found
