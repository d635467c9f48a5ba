"""What a bank answers, in the protocol's terms (PROTOCOL §7), whatever standard it speaks, and
the ways a bank can fail. Connectors translate their bank's API into these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class BankUnavailable(Exception):
    """The bank cannot be reached, timed out, or answered with an error: `bank_unavailable`.
    The message is for the log and never names a customer or a credential."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BankRateLimited(Exception):
    """The bank refuses more reads today for this consent (Berlin Group 429 ACCESS_EXCEEDED)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the bank allows no more reads for now; retry in {retry_after} s")
        self.retry_after = retry_after


class ConsentEnded(Exception):
    """The bank no longer honours the consent: `expired`, or `revoked` (by the customer, the TPP
    or the bank)."""

    def __init__(self, how: str) -> None:
        super().__init__(f"the bank's consent has {how}")
        self.how = how


class AccountUnknown(Exception):
    """The bank does not know this account under this consent."""


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
    name: str | None = None
