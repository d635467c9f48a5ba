"""What the server asks of a bank (PROTOCOL §11), whatever standard the bank speaks.

A connector turns the flow's steps into one bank's API: `start` creates the consent at the bank
and says where to send the customer; `finish` asks the bank how it ended; the reads use what
`finish` returned; `end` revokes it. The pages and the JSON API never see a connector: they go
through `banks.registry.Banks`, which adds time limits and maps every failure to BankUnavailable.

What a connector hands back to keep (`Consent.credentials`) is opaque text that only it reads; the
server stores it encrypted beside the token and never logs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from webview_bridge.banks.directory import Bank
from webview_bridge.banks.model import Account, Balance, Money, StandingOrder, Transaction, TransferDestination


@dataclass(frozen=True)
class Customer:
    """The customer's context, sent to the bank only while the customer is present."""

    ip_address: str | None = None
    user_agent: str | None = None
    bank_user: str | None = None  # the bank's name for the customer, when known (PSU-ID)


@dataclass(frozen=True)
class ConsentAsk:
    """What `start` asks the bank for."""

    resources: tuple[str, ...]
    valid_until: date
    return_url: str  # carries the server's own signed state; the bank returns here, nothing appended
    app_name: str  # the TPP app the customer sees, for the bank's own consent page
    customer: Customer


@dataclass(frozen=True)
class Started:
    redirect_url: str  # the bank's authorisation page
    handle: str  # opaque: what `finish` needs to ask the bank how it ended


@dataclass(frozen=True)
class Consent:
    """A consent the bank says is valid: the accounts it covers and what reading them needs."""

    accounts: tuple[Account, ...]
    credentials: str  # opaque to everyone but the connector; kept encrypted
    bank_user: str | None = None


@dataclass(frozen=True)
class Finished:
    outcome: str  # granted | denied
    consent: Consent | None = None


class Connector(Protocol):
    async def start(self, bank: Bank, ask: ConsentAsk) -> Started: ...

    async def finish(self, bank: Bank, handle: str, customer: Customer) -> Finished: ...

    async def accounts(self, bank: Bank, credentials: str) -> list[Account]: ...

    async def balance(self, bank: Bank, credentials: str, account_id: str) -> Balance: ...

    async def transactions(self, bank: Bank, credentials: str, account_id: str, date_from: date,
                           date_to: date | None) -> list[Transaction]:
        """Newest first, every page the bank has for the range."""
        ...

    async def transaction(self, bank: Bank, credentials: str, account_id: str, transaction_id: str) -> Transaction: ...

    async def standing_orders(self, bank: Bank, credentials: str, account_id: str) -> list[StandingOrder]: ...

    async def transfer_destinations(self, bank: Bank, credentials: str, account_id: str) -> list[TransferDestination]: ...

    async def funds_available(self, bank: Bank, credentials: str, account_id: str, amount: Money) -> bool: ...

    async def end(self, bank: Bank, credentials: str) -> None:
        """Revoke the bank's consent; done once it is gone, whatever state it was in."""
        ...

    async def aclose(self) -> None: ...


class TrustedConnector(Connector, Protocol):
    """A bank that deploys this server for its own customers lists their accounts and grants a
    consent without a bank page — only on the trusted path of PROTOCOL §6."""

    async def trusted_accounts(self, bank: Bank, bank_user: str) -> list[Account]: ...

    async def trusted_grant(self, bank: Bank, bank_user: str, account_ids: tuple[str, ...],
                            resources: tuple[str, ...], valid_until: date) -> Consent: ...
