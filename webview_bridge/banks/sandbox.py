"""The sandbox connector: realistic, deterministic data for every directory bank.

Logins (PROTOCOL §4): alice (three accounts, GBP and EUR), bob (no accounts), carol (asks for
the one-time code 123456); password `sandbox` for all. Any other client id gets a generated
profile. Everything is derived from hashes of the bank, the customer and the date, so the same
question always gets the same answer and tests can assert on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer

from webview_bridge.banks.connector import (
    Account,
    AccountDetails,
    Balance,
    BankUnavailable,
    LoginFailed,
    Money,
    SecondFactorRequired,
    StandingOrder,
    Transaction,
    TransferDestination,
)
from webview_bridge.banks.directory import Bank
from webview_bridge.i18n import N_

PASSWORD = "sandbox"
ONE_TIME_CODE = "123456"
HISTORY_DAYS = 400  # a little over 13 months

# (name, type, currency) per login; other customers get a generated list.
PROFILES: dict[str, list[tuple[str, str, str]]] = {
    "alice": [("Everyday Account", "CHECKING", "GBP"), ("Euro Savings", "SAVINGS", "EUR"), ("Rewards Card", "CARD", "GBP")],
    "bob": [],
    "carol": [("Current Account", "CHECKING", "EUR"), ("Rainy Day Savings", "SAVINGS", "EUR")],
}
HOLDERS = {"alice": "Alice Andersson", "bob": "Bob Brennan", "carol": "Carol Castellano"}
NEEDS_SECOND_FACTOR = {"carol"}

_MERCHANTS_DEBIT = [
    "Corner Grocer", "City Transit", "Coffee & Co", "Bookshop on the Square", "Streaming Plus", "Fuel Station 24",
    "Pharmacy Central", "Bakery Morning Glory", "Electric Utility", "Mobile Network", "Restaurant Olivo", "Cinema Lux",
]
_MERCHANTS_CREDIT = ["Salary", "Refund", "Transfer from savings", "Interest"]


def _state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def _digest(*parts: str) -> bytes:
    return hashlib.sha256(":".join(parts).encode()).digest()


def _number(seed: bytes, low: int, high: int) -> int:
    return low + int.from_bytes(seed[:8], "big") % (high - low + 1)


def _opaque_id(prefix: str, *parts: str) -> str:
    return prefix + "_" + base64.urlsafe_b64encode(_digest(*parts)[:16]).rstrip(b"=").decode()


def _digits(seed: bytes, count: int) -> str:
    return "".join(str(b % 10) for b in (seed * 4)[:count])


def iban(country: str, bban: str) -> str:
    """A well-formed IBAN (ISO 13616 mod-97 check digits) for a country and BBAN."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


class SandboxConnector:
    """Serves every directory bank; special banks behave as PROTOCOL §4 says.

    Its bank-side login pages live on this server under /sandbox-bank/ (web/sandbox_bank.py) and,
    like a real bank's, answer with a short-lived code bound to the flow's state.
    """

    CODE_MAX_AGE = 300
    blocking = False  # everything is computed here, nothing waits

    def __init__(self, base_url: str = "", code_keys: Sequence[bytes] = (b"sandbox-bank-default-key",)) -> None:
        self.base_url = base_url.rstrip("/")
        self._codes = URLSafeTimedSerializer(list(code_keys), salt="sandbox-bank/code")

    def authorization_url(self, bank: Bank, state: str, return_url: str) -> str:
        return f"{self.base_url}/sandbox-bank/{bank.id}/authorize?" + urlencode({"state": state, "return_url": return_url})

    def issue_code(self, bank: Bank, customer_ref: str, state: str) -> str:
        """What the bank's login page hands back after a successful login."""
        return self._codes.dumps({"bank_id": bank.id, "customer_ref": customer_ref, "state": _state_digest(state)})

    def complete_authorization(self, bank: Bank, state: str, params: dict[str, str]) -> str:
        if params.get("error"):
            raise BankUnavailable(params["error"])
        try:
            code = self._codes.loads(params.get("code", ""), max_age=self.CODE_MAX_AGE)
        except BadSignature:
            raise LoginFailed("The bank's answer could not be verified.")
        if code.get("bank_id") != bank.id or code.get("state") != _state_digest(state):
            raise LoginFailed("The bank's answer belongs to another login.")
        return code["customer_ref"]

    def check_login(self, bank: Bank, username: str, password: str, one_time_code: str | None) -> str:
        if bank.status != "available" or bank.always_fails:
            raise BankUnavailable(f"{bank.name} is not answering")
        user = username.strip().lower()
        if not user or not hmac.compare_digest(password.encode(), PASSWORD.encode()):
            raise LoginFailed(N_("The username or password is not right."))
        if user in NEEDS_SECOND_FACTOR:
            if not one_time_code:
                raise SecondFactorRequired()
            if not hmac.compare_digest(one_time_code.strip().encode(), ONE_TIME_CODE.encode()):
                raise LoginFailed(N_("That one-time code is not right."))
        return user

    def check_one_time_code(self, bank: Bank, username: str, one_time_code: str) -> str:
        """Second step for customers who need one, after check_login raised SecondFactorRequired."""
        if bank.status != "available" or bank.always_fails:
            raise BankUnavailable(f"{bank.name} is not answering")
        if not hmac.compare_digest(one_time_code.strip().encode(), ONE_TIME_CODE.encode()):
            raise LoginFailed(N_("That one-time code is not right."))
        return username

    def holder_name(self, bank: Bank, customer_ref: str) -> str:
        return HOLDERS.get(customer_ref) or " ".join(p.capitalize() for p in customer_ref.replace("-", " ").split()) or "Customer"

    def _profile(self, customer_ref: str) -> list[tuple[str, str, str]]:
        if customer_ref in PROFILES:
            return PROFILES[customer_ref]
        seed = _digest("profile", customer_ref)
        choices = [("Current Account", "CHECKING", "EUR"), ("Savings Account", "SAVINGS", "EUR"),
                   ("Sterling Account", "CHECKING", "GBP"), ("Credit Card", "CARD", "EUR")]
        return choices[: _number(seed, 1, 3)]

    def accounts(self, bank: Bank, customer_ref: str) -> list[Account]:
        if bank.status != "available" or bank.always_fails:
            raise BankUnavailable(f"{bank.name} is not answering")
        return list(self._accounts(bank, customer_ref))

    @lru_cache(maxsize=4096)  # noqa: B019 - one connector per server, and the accounts never change
    def _accounts(self, bank: Bank, customer_ref: str) -> tuple[Account, ...]:
        """The same every time (derived from the customer and bank), so worked out once."""
        return tuple(self._account(bank, customer_ref, i, *spec) for i, spec in enumerate(self._profile(customer_ref)))

    def _account(self, bank: Bank, customer_ref: str, index: int, name: str, kind: str, currency: str) -> Account:
        account_id = _opaque_id("acc", bank.id, customer_ref, str(index))
        if not bank.supports_account_details_api:
            return Account(account_id, name, kind, currency, bank.id, None)
        seed = _digest("number", bank.id, customer_ref, str(index))
        country = "GB" if currency == "GBP" else next((c for c in bank.countries if c != "GB"), "DE")
        identifiers: list[dict] = []
        if currency == "GBP":
            sort_code, number = _digits(seed, 6), _digits(seed[6:], 8)
            identifiers.append({"gb_domestic": {"sort_code": sort_code, "account_number": number}})
            identifiers.append({"iban": {"iban": iban("GB", bank.bic[:4] + sort_code + number)}})
            identifier = number
        else:
            bban = _digits(seed, 18)
            identifiers.append({"iban": {"iban": iban(country, bban)}})
            identifiers.append({"bban": {"bban": bban}})
            identifier = bban
        if kind == "CARD":
            identifiers = [{"token": {"member_id": _opaque_id("m", bank.id, customer_ref), "account_id": account_id}}]
            identifier = "•••• " + _digits(seed[10:], 4)
        details = AccountDetails(
            identifier=identifier,
            type=kind,
            status="ACTIVE",
            bic=bank.bic,
            account_holder_name=self.holder_name(bank, customer_ref),
            account_identifiers=identifiers,
        )
        return Account(account_id, name, kind, currency, bank.id, details)

    def balance(self, bank: Bank, customer_ref: str, account: Account, now: datetime) -> Balance:
        seed = _digest("balance", account.id)
        base = Decimal(_number(seed, 20_000, 900_000)) / 100
        if account.type == "CARD":
            base = -Decimal(_number(seed, 1_000, 150_000)) / 100
        pending = sum(
            (t.amount.value if t.type == "CREDIT" else -t.amount.value)
            for t in self._day(account, now.date())
        )
        current = base
        available = base + pending + (Decimal("500.00") if account.type == "CHECKING" else Decimal("0"))
        return Balance(account.id, Money(account.currency, current), Money(account.currency, available), now)

    def _day(self, account: Account, day: date) -> list[Transaction]:
        seed = _digest("day", account.id, day.isoformat())
        count = seed[0] % 4 if account.type in ("CHECKING", "CARD") else (1 if seed[0] % 9 == 0 else 0)
        found = []
        for i in range(count):
            item = _digest("tx", account.id, day.isoformat(), str(i))
            credit = account.type == "SAVINGS" or (day.day == 28 and i == 0) or item[1] % 11 == 0
            if credit:
                description = "Salary" if day.day == 28 and i == 0 else _MERCHANTS_CREDIT[item[2] % len(_MERCHANTS_CREDIT)]
                cents = _number(item, 250_000, 420_000) if description == "Salary" else _number(item, 500, 40_000)
            else:
                description = _MERCHANTS_DEBIT[item[2] % len(_MERCHANTS_DEBIT)]
                cents = _number(item, 150, 18_000)
            at = datetime.combine(day, time(0, 0), tzinfo=timezone.utc) + timedelta(seconds=_number(item[8:], 21_600, 79_200))
            found.append(Transaction(
                id=_opaque_id("tx", account.id, day.isoformat(), str(i)),
                type="CREDIT" if credit else "DEBIT",
                status="BOOKED",
                amount=Money(account.currency, Decimal(cents) / 100),
                description=description,
                booked_at=at,
            ))
        return found

    def transactions(self, bank: Bank, customer_ref: str, account: Account, now: datetime) -> list[Transaction]:
        today = now.date()
        history: list[Transaction] = []
        for back in range(HISTORY_DAYS + 1):
            day = today - timedelta(days=back)
            for tx in self._day(account, day):
                if tx.booked_at <= now:
                    status = "PENDING" if day == today else "BOOKED"
                    history.append(Transaction(tx.id, tx.type, status, tx.amount, tx.description, tx.booked_at))
        history.sort(key=lambda t: (t.booked_at, t.id), reverse=True)
        return history

    def standing_orders(self, bank: Bank, customer_ref: str, account: Account, now: datetime) -> list[StandingOrder]:
        if account.type != "CHECKING":
            return []
        plans = [("Landlord Lettings Ltd", "RENT", 95_000), ("Savings top-up", "SAVE", 20_000)]
        orders = []
        for i, (creditor, reference, cents) in enumerate(plans):
            seed = _digest("so", account.id, str(i))
            day_of_month = _number(seed, 1, 28)
            next_date = now.date().replace(day=day_of_month)
            if next_date <= now.date():
                next_date = (next_date.replace(day=1) + timedelta(days=32)).replace(day=day_of_month)
            orders.append(StandingOrder(
                id=_opaque_id("so", account.id, str(i)),
                amount=Money(account.currency, Decimal(cents) / 100),
                frequency="MONTHLY",
                next_payment_date=next_date,
                creditor_name=creditor,
                creditor_identifier={"iban": {"iban": iban("GB", "LAND" + _digits(seed, 14))
                                              if account.currency == "GBP" else iban("DE", _digits(seed, 18))}},
                reference=reference,
            ))
        return orders

    def transfer_destinations(self, bank: Bank, customer_ref: str, account: Account) -> list[TransferDestination]:
        if account.details is None:
            return []
        destinations = []
        for identifier in account.details.account_identifiers:
            if "gb_domestic" in identifier:
                destinations.append(TransferDestination("FASTER_PAYMENTS", dict(identifier["gb_domestic"])))
            elif "iban" in identifier:
                destinations.append(TransferDestination("SEPA", {"iban": identifier["iban"]["iban"], "bic": bank.bic}))
        return destinations
