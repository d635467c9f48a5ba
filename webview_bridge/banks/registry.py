"""The one way the server reaches a bank (PROTOCOL §11).

Pages and API handlers call `Banks`; it finds the bank's connector, bounds every call in time,
turns every failure into BankUnavailable (a page's `bank_unavailable`, an API's 503), and keeps
each token's answers for a while so a TPP's rereads stay within the bank's daily allowance
(PROTOCOL §7). No handler holds a connector, so none can skip this.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from pydantic import TypeAdapter

from webview_bridge.banks.connector import Connector, Consent, ConsentAsk, Customer, Finished, Started, TrustedConnector
from webview_bridge.banks.directory import Bank, Directory
from webview_bridge.banks.model import (
    Account, AccountUnknown, Balance, BankRateLimited, BankUnavailable, ConsentEnded, Money, StandingOrder,
    Transaction, TransferDestination,
)
from webview_bridge.banks.xs2a.connector import Xs2aConnector, own_base_url
from webview_bridge.banks.xs2a.openapi import Exchange

log = logging.getLogger("webview_bridge.banks")
T = TypeVar("T")
# A read may follow many pages: the whole call gets this many of the bank's per-request limits.
CALL_BUDGET = 3
# What a bank's failure to answer is allowed to raise past the facade.
_PASSED = (BankUnavailable, BankRateLimited, ConsentEnded, AccountUnknown)


@dataclass(frozen=True)
class Grant:
    """A token's hold on a bank: which token (for the cache), which bank, and the connector's credentials."""

    token_id: str
    bank_id: str
    credentials: str


class AnswerCache(Protocol):
    async def get(self, token_id: str, key: str) -> str | None: ...

    async def put(self, token_id: str, key: str, value: str) -> None: ...

    async def probe(self, bank: Bank) -> str:
        """One harmless call, to prove a bank's URL and certificates (`banks check --probe`)."""
        return await self._ask(bank, "probe", lambda c: c.probe())  # type: ignore[attr-defined]

    def forget(self, token_id: str) -> None: ...


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


class Banks:
    def __init__(self, directory: Directory, *, base_url: str, account_id: Callable[[str, str], str],
                 now: Callable[[], datetime], trusted_key: str | None, cache: AnswerCache | None = None) -> None:
        self.directory = directory
        self._base_url = base_url
        self._account_id = account_id
        self._now = now
        self._trusted_key = trusted_key
        self._cache = cache
        self._connectors: dict[str, Connector] = {}
        self._observe: Callable[[Exchange], None] | None = None

    @property
    def observe(self) -> Callable[[Exchange], None] | None:
        """Sees every call to a bank as the Berlin Group file would (tests hold each to the file)."""
        return self._observe

    @observe.setter
    def observe(self, observer: Callable[[Exchange], None] | None) -> None:
        self._observe = observer
        for connector in self._connectors.values():
            connector.observe = observer  # type: ignore[attr-defined]

    def get(self, bank_id: str) -> Bank | None:
        return self.directory.get(bank_id)

    def _connector(self, bank: Bank) -> Connector:
        found = self._connectors.get(bank.id)
        if found is None:
            settings = self.directory.connector_settings(bank.id)
            sandbox = settings.type == "sandbox"
            base_url = settings.base_url or own_base_url(self._base_url, bank.id)
            found = self._connectors[bank.id] = Xs2aConnector(
                settings, base_url, account_id=self._account_id, now=self._now,
                trusted_key=self._trusted_key if sandbox else None, reports_bank_user=sandbox, observe=self._observe,
            )
        return found

    async def _ask(self, bank: Bank, what: str, call: Callable[[Connector], Awaitable[T]]) -> T:
        settings = self.directory.connector_settings(bank.id)
        try:
            async with asyncio.timeout(settings.timeout_seconds * CALL_BUDGET):
                return await call(self._connector(bank))
        except _PASSED:
            raise
        except ssl.SSLError as exc:
            raise BankUnavailable(f"{bank.id}: TLS failed ({exc.reason or type(exc).__name__})") from exc
        except TimeoutError:
            raise BankUnavailable(f"{bank.id}: {what} took longer than {settings.timeout_seconds * CALL_BUDGET:g} s")
        except Exception as exc:  # a bank's odd answer must never become a 500
            log.warning("bank call failed", extra={"fields": {"bank_id": bank.id, "call": what, "error": type(exc).__name__}})
            raise BankUnavailable(f"{bank.id}: {what} failed ({type(exc).__name__})") from exc

    # --- the flow -----------------------------------------------------------------------

    async def start(self, bank: Bank, ask: ConsentAsk) -> Started:
        return await self._ask(bank, "start", lambda c: c.start(bank, ask))

    async def finish(self, bank: Bank, handle: str, customer: Customer) -> Finished:
        return await self._ask(bank, "finish", lambda c: c.finish(bank, handle, customer))

    def offers_trusted(self, bank: Bank) -> bool:
        return self.directory.connector_settings(bank.id).type == "sandbox" and self._trusted_key is not None

    async def trusted_accounts(self, bank: Bank, bank_user: str) -> list[Account]:
        return await self._ask(bank, "trusted accounts", lambda c: _trusted(c).trusted_accounts(bank, bank_user))

    async def trusted_grant(self, bank: Bank, bank_user: str, account_ids: tuple[str, ...], resources: tuple[str, ...],
                            valid_until: date) -> Consent:
        return await self._ask(bank, "trusted grant", lambda c: _trusted(c).trusted_grant(
            bank, bank_user, account_ids, resources, valid_until))

    async def end(self, bank: Bank, credentials: str) -> None:
        await self._ask(bank, "end", lambda c: c.end(bank, credentials))

    # --- reads, cached per token ----------------------------------------------------------

    async def _read(self, grant: Grant, key: str, kind: Any, call: Callable[[Connector, Bank], Awaitable[T]]) -> T:
        bank = self.directory.get(grant.bank_id)
        if bank is None:  # the directory lost a bank that tokens still name
            raise BankUnavailable(f"{grant.bank_id} is no longer in the directory")
        adapter = _adapter(kind)
        if self._cache is not None:
            kept = await self._cache.get(grant.token_id, key)
            if kept is not None:
                return adapter.validate_json(kept)
        answer = await self._ask(bank, key.split(":", 1)[0], lambda c: call(c, bank))
        if self._cache is not None:
            await self._cache.put(grant.token_id, key, adapter.dump_json(answer).decode())
        return answer

    async def accounts(self, grant: Grant) -> list[Account]:
        return await self._read(grant, "accounts", list[Account], lambda c, b: c.accounts(b, grant.credentials))

    async def balance(self, grant: Grant, account_id: str) -> Balance:
        return await self._read(grant, f"balance:{account_id}", Balance,
                                lambda c, b: c.balance(b, grant.credentials, account_id))

    async def transactions(self, grant: Grant, account_id: str, date_from: date, date_to: date | None) -> list[Transaction]:
        return await self._read(grant, f"transactions:{account_id}:{date_from}:{date_to}", list[Transaction],
                                lambda c, b: c.transactions(b, grant.credentials, account_id, date_from, date_to))

    async def transaction(self, grant: Grant, account_id: str, transaction_id: str) -> Transaction:
        return await self._read(grant, f"transaction:{account_id}:{transaction_id[:120]}", Transaction,
                                lambda c, b: c.transaction(b, grant.credentials, account_id, transaction_id))

    async def standing_orders(self, grant: Grant, account_id: str) -> list[StandingOrder]:
        return await self._read(grant, f"standing_orders:{account_id}", list[StandingOrder],
                                lambda c, b: c.standing_orders(b, grant.credentials, account_id))

    async def transfer_destinations(self, grant: Grant, account_id: str) -> list[TransferDestination]:
        return await self._read(grant, f"transfer_destinations:{account_id}", list[TransferDestination],
                                lambda c, b: c.transfer_destinations(b, grant.credentials, account_id))

    async def funds_available(self, grant: Grant, account_id: str, amount: Money) -> bool:
        """Never cached: it answers for one amount, now."""
        bank = self.directory.get(grant.bank_id)
        if bank is None:
            raise BankUnavailable(f"{grant.bank_id} is no longer in the directory")
        return await self._ask(bank, "funds", lambda c: c.funds_available(bank, grant.credentials, account_id, amount))

    async def probe(self, bank: Bank) -> str:
        """One harmless call, to prove a bank's URL and certificates (`banks check --probe`)."""
        return await self._ask(bank, "probe", lambda c: c.probe())  # type: ignore[attr-defined]

    def forget(self, token_id: str) -> None:
        """Drop a token's kept answers (it was cancelled)."""
        if self._cache is not None:
            self._cache.forget(token_id)

    async def aclose(self) -> None:
        for connector in self._connectors.values():
            await connector.aclose()
        self._connectors.clear()


def _trusted(connector: Connector) -> TrustedConnector:
    if not hasattr(connector, "trusted_accounts"):
        raise BankUnavailable("this bank offers no trusted access")
    return connector  # type: ignore[return-value]
