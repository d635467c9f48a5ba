"""The connector interface: what the server asks of a bank, and the account data it gets back.

The sandbox connector serves every directory bank; a real bank's connector implements the same
methods. `customer_ref` is the bank's own name for the customer (the login user, the bank's
client id), kept on the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from webview_bridge.banks.directory import Bank


class BankUnavailable(Exception):
    """The bank cannot be reached or refused to work; the flow ends with bank_unavailable."""


class LoginFailed(Exception):
    """Wrong credentials; the message is safe to show the customer."""


class SecondFactorRequired(Exception):
    """Credentials were right; the bank wants a one-time code next."""


@dataclass(frozen=True)
class Money:
    currency: str
    value: Decimal

    def as_json(self) -> dict[str, str]:
        return {"currency": self.currency, "value": f"{self.value:.2f}"}


@dataclass(frozen=True)
class AccountDetails:
    identifier: str
    type: str
    status: str
    bic: str
    account_holder_name: str
    account_identifiers: list[dict[str, Any]]


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    type: str  # CHECKING | SAVINGS | CARD | LOAN | OTHER
    currency: str
    bank_id: str
    details: AccountDetails | None


@dataclass(frozen=True)
class Balance:
    account_id: str
    current: Money
    available: Money
    updated_at: datetime


@dataclass(frozen=True)
class Transaction:
    id: str
    type: str  # DEBIT | CREDIT
    status: str  # BOOKED | PENDING
    amount: Money
    description: str
    booked_at: datetime


@dataclass(frozen=True)
class StandingOrder:
    id: str
    amount: Money
    frequency: str
    next_payment_date: date
    creditor_name: str
    creditor_identifier: dict[str, Any]
    reference: str
    status: str = "ACTIVE"


@dataclass(frozen=True)
class TransferDestination:
    type: str  # SEPA | FASTER_PAYMENTS
    identifiers: dict[str, str] = field(default_factory=dict)


class BankConnector(Protocol):
    # True when calls wait on a bank's network, so they run in a worker thread; False when they
    # only compute, so they run on the event loop (cheaper than the hop).
    blocking: bool

    def authorization_url(self, bank: Bank, state: str, return_url: str) -> str:
        """Where to send the customer to authenticate; the bank returns to return_url with state."""
        ...

    def complete_authorization(self, bank: Bank, state: str, params: dict[str, str]) -> str:
        """The customer_ref the bank vouches for, from its return's query; raises LoginFailed or BankUnavailable."""
        ...

    def check_login(self, bank: Bank, username: str, password: str, one_time_code: str | None) -> str:
        """The customer_ref of a successful login; raises LoginFailed, SecondFactorRequired, BankUnavailable."""
        ...

    def holder_name(self, bank: Bank, customer_ref: str) -> str: ...

    def accounts(self, bank: Bank, customer_ref: str) -> list[Account]: ...

    def balance(self, bank: Bank, customer_ref: str, account: Account, now: datetime) -> Balance: ...

    def transactions(self, bank: Bank, customer_ref: str, account: Account, now: datetime) -> list[Transaction]:
        """Every transaction the bank will show, newest first."""
        ...

    def standing_orders(self, bank: Bank, customer_ref: str, account: Account, now: datetime) -> list[StandingOrder]: ...

    def transfer_destinations(self, bank: Bank, customer_ref: str, account: Account) -> list[TransferDestination]: ...

