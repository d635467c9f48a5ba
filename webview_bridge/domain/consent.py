"""The consent flow's decisions (PROTOCOL §6): choose a bank → our consent screen → the bank →
its return → the way back to the TPP.

`ConsentService` takes the flow's steps and answers with an outcome that says where the
customer goes next; every ending carries the way back to the TPP. It knows no HTTP and no SQL:
it works through three narrow ports — the flow's storage, the banks, and the signer of ways back —
so its rules are tested with fakes (tests/domain/test_consent.py). Screens only parse forms and
render what it answers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from webview_bridge.banks.connector import Consent, ConsentAsk, Customer, Started
from webview_bridge.banks.connector import Finished as BankAnswer
from webview_bridge.banks.directory import Bank
from webview_bridge.banks.model import Account, AccountUnknown, BankUnavailable
from webview_bridge.domain.customers import ClientToken, customer_id_for
from webview_bridge.domain.errors import Conflict, Invalid, NotAllowed
from webview_bridge.domain.token_requests import TokenRequest

# Endings other than a granted token, as the TPP sees them in `error=`.
ACCESS_DENIED = "access_denied"
BANK_UNAVAILABLE = "bank_unavailable"
REQUEST_EXPIRED = "request_expired"
CUSTOMER_EXITS = (ACCESS_DENIED, BANK_UNAVAILABLE)


@dataclass(frozen=True)
class FlowState:
    """Where one request's flow stands, as stored."""

    request_id: str
    bank_id: str | None = None
    chooser: str | None = None  # the session that chose the bank: the only one shown the flow
    bank_nonce: str | None = None  # set while the customer is at the bank; spent by its return
    bank_handle: str | None = None  # the connector's handle for the consent being authorised
    bank_url: str | None = None  # where the customer authorises it: shown only to the chooser
    finished_by: str | None = None  # the session that ended the flow, shown the way back
    since: datetime | None = None  # when the flow last moved (e.g. the customer left for the bank)


@dataclass(frozen=True)
class Visitor:
    """Who is looking: their session (as the server knows it) and, after a client-token hand-off,
    the customer that token names with the bank (`--bank-id`) of the app that issued it."""

    session: str
    client_token: ClientToken | None = None
    issuing_bank_id: str | None = None
    context: Customer = Customer()


@dataclass(frozen=True)
class Approval:
    """What a granted consent makes: the token's bank, customer and accounts, and the bank's consent."""

    bank_id: str
    customer_id: str
    customer_ref: str
    account_ids: tuple[str, ...]
    credentials: str
    bank_user: str | None
    account_names: tuple[tuple[str, str], ...] = ()  # (id, name) as the bank named them, for the customer's grants
    replaces_token_id: str | None = None  # re-consent: the token the new one renews


# --- outcomes: where the customer goes next ------------------------------------------------

@dataclass(frozen=True)
class ToConsent:
    """The consent screen for the chosen bank (after choosing, or on opening a preset bank)."""

    bank: Bank


@dataclass(frozen=True)
class ConsentScreen:
    bank: Bank
    trusted_accounts: tuple[Account, ...] | None  # the trusted path: accounts to tick here, no bank page


@dataclass(frozen=True)
class ToBank:
    bank: Bank
    url: str
    external: bool  # the bank's login opens outside the WebView (app-to-app)


@dataclass(frozen=True)
class BackToTpp:
    url: str  # the signed 302 of PROTOCOL §6


@dataclass(frozen=True)
class Finished:
    """The request was decided (or expired) before this step: show how it ended."""

    status: str  # PROCESSED | REJECTED | EXPIRED
    way_back: str | None  # only for the session that finished it, until expires_at; always when expired


@dataclass(frozen=True)
class BankDown:
    bank: Bank
    can_choose_again: bool


Outcome = ToConsent | ConsentScreen | ToBank | BackToTpp | Finished | BankDown


# --- ports ---------------------------------------------------------------------------------

class FlowStore(Protocol):
    async def load(self, request_id: str) -> tuple[TokenRequest, FlowState | None] | None: ...

    async def choose_bank(self, request_id: str, bank_id: str, chooser: str) -> None:
        """Start (or restart) the flow at this bank for this session; forgets any earlier bank step."""
        ...

    async def go_to_bank(self, request_id: str, chooser: str, nonce: str, handle: str, bank_url: str) -> bool:
        """Record that the chooser went to the bank; False if the flow moved on meanwhile."""
        ...

    async def take_return(self, request_id: str, nonce: str) -> str | None:
        """Spend the nonce of the bank's return, once: the consent handle, or None if spent or unknown."""
        ...

    async def approve(self, request_id: str, approval: Approval, finished_by: str) -> str | None:
        """Make the token for a PENDING, unexpired request: its id, or None if it was decided already."""
        ...

    async def reject(self, request_id: str, error: str, finished_by: str) -> bool:
        """End a PENDING request without a token; False if it was decided already."""
        ...

    async def spend_strong_auth(self, client_token_id: str) -> bool:
        """Use a strong-auth client token's one skip of the bank's pages; False if used already."""
        ...


class BankPort(Protocol):
    def get(self, bank_id: str) -> Bank | None: ...

    def offers_trusted(self, bank: Bank) -> bool: ...

    async def start(self, bank: Bank, ask: ConsentAsk) -> Started: ...

    async def finish(self, bank: Bank, handle: str, customer: Customer) -> BankAnswer: ...

    async def trusted_accounts(self, bank: Bank, bank_user: str) -> list[Account]: ...

    async def trusted_grant(self, bank: Bank, bank_user: str, account_ids: tuple[str, ...], resources: tuple[str, ...],
                            valid_until: object) -> Consent: ...


class WayBack(Protocol):
    async def __call__(self, request: TokenRequest, *, token_id: str | None = None, error: str | None = None) -> str:
        """The TPP's redirect URL with request-id, token-id or error, and a freshly signed state."""
        ...


# --- the rules -----------------------------------------------------------------------------

def offered(request: TokenRequest, bank: Bank) -> bool:
    """A bank a request can use: in its countries, offering every resource it asks for."""
    countries = request.details.get("countries")
    return (not countries or bool(set(countries) & set(bank.countries))) and all(bank.supports(r) for r in request.resources)


def check_choice(request: TokenRequest, bank: Bank | None) -> Bank:
    """A request that names a bank is served only by that bank; any other choice must be an
    available bank the request can use."""
    preset = request.bank_id
    if bank is None:
        raise Invalid("unknown_bank", "no such bank", "bank_id")
    if preset is not None and bank.id != preset:
        raise Invalid("bank_not_allowed", "this request is for another bank", "bank_id")
    if not offered(request, bank):
        raise Invalid("bank_not_offered", f"{bank.name} cannot serve this request", "bank_id")
    if not bank.available:
        raise Invalid("bank_unavailable", f"{bank.name} is under maintenance", "bank_id")
    return bank


def check_chooser(state: FlowState | None, session: str) -> FlowState:
    """Only the session that chose the bank sees the flow's next steps (and the live bank state)."""
    if state is None or state.bank_id is None or state.chooser != session:
        raise NotAllowed("choose_bank_first", "choose your bank in this browser first")
    return state


def trusted_path(visitor: Visitor, bank: Bank, now: datetime) -> bool:
    """A strong-auth client token, unused, within its life, at its issuing bank: no bank pages."""
    token = visitor.client_token
    return token is not None and token.may_skip_bank_login(now, bank.id, visitor.issuing_bank_id)


def check_chosen_accounts(chosen: tuple[str, ...], available: tuple[Account, ...]) -> tuple[str, ...]:
    """On the trusted path: at least one account, and only the customer's own."""
    known = {a.id for a in available}
    picked = tuple(dict.fromkeys(chosen))
    if not picked:
        raise Invalid("no_account_chosen", "choose at least one account to share", "account_id")
    if not set(picked) <= known:
        raise Invalid("unknown_account", "that is not one of your accounts", "account_id")
    return picked


def covered_accounts(consent: Consent) -> tuple[str, ...]:
    """A token's accounts are the ones the bank says its consent covers — never more, never none."""
    ids = tuple(dict.fromkeys(a.id for a in consent.accounts))
    if not ids:
        raise Invalid("no_account_covered", "the bank's consent covers no account")
    return ids


# After this long away at an external bank, the page offers another bank or a way out.
STILL_WAITING_AFTER = timedelta(seconds=45)


def still_waiting(state: FlowState | None, now: datetime) -> bool:
    return state is not None and state.since is not None and now - state.since >= STILL_WAITING_AFTER


def may_see_way_back(request: TokenRequest, state: FlowState | None, session: str | None, now: datetime) -> bool:
    """A finished request's way back (outcome and a fresh state) goes only to the session that
    finished it, and only while the request would still have been live."""
    return (state is not None and session is not None and state.finished_by == session
            and now < request.expires_at)


class ConsentService:
    def __init__(self, store: FlowStore, banks: BankPort, way_back: WayBack, *, now: Callable[[], datetime],
                 return_url: Callable[[str, str], str], keyed_hash: Callable[[str], str]) -> None:
        self.store = store
        self.banks = banks
        self.way_back = way_back
        self.now = now
        self.return_url = return_url  # (request id, nonce) -> where the bank sends the customer back
        self.keyed_hash = keyed_hash

    # --- endings --------------------------------------------------------------------------

    async def ending(self, request: TokenRequest, state: FlowState | None, session: str | None) -> Finished:
        """How a request that cannot go on ended, and the way back where this visitor may have it."""
        now = self.now()
        status = request.status_at(now)
        if status == "EXPIRED":
            return Finished(status, await self.way_back(request, error=REQUEST_EXPIRED))
        if status == "PENDING":
            raise RuntimeError("a pending request has no ending")
        if not may_see_way_back(request, state, session, now):
            return Finished(status, None)
        if status == "PROCESSED":
            return Finished(status, await self.way_back(request, token_id=request.token_id))
        return Finished(status, await self.way_back(request, error=request.error or ACCESS_DENIED))

    async def _decided_meanwhile(self, request_id: str, session: str) -> Finished:
        loaded = await self.store.load(request_id)
        assert loaded is not None
        return await self.ending(*loaded, session)

    async def end_without_token(self, request: TokenRequest, session: str, error: str) -> BackToTpp | Finished:
        """Deny, cancel, give up on an unavailable bank: one ending, one way back."""
        if error not in CUSTOMER_EXITS:
            error = ACCESS_DENIED
        if not await self.store.reject(request.id, error, session):
            return await self._decided_meanwhile(request.id, session)
        return BackToTpp(await self.way_back(request, error=error))

    async def _grant(self, request: TokenRequest, bank: Bank, consent: Consent, visitor: Visitor) -> BackToTpp | Finished:
        approval = Approval(
            bank_id=bank.id, customer_id=self._customer_id(bank, consent, visitor),
            customer_ref=consent.bank_user or "", account_ids=covered_accounts(consent),
            credentials=consent.credentials, bank_user=consent.bank_user,
            account_names=tuple((a.id, a.name) for a in consent.accounts),
            replaces_token_id=request.details.get("replaces_token_id"),
        )
        token_id = await self.store.approve(request.id, approval, visitor.session)
        if token_id is None:
            return await self._decided_meanwhile(request.id, visitor.session)
        return BackToTpp(await self.way_back(request, token_id=token_id))

    def _customer_id(self, bank: Bank, consent: Consent, visitor: Visitor) -> str:
        """The bank's own customer when its client token brought them; else the one the bank
        names; else one named by the accounts the consent covers."""
        token = visitor.client_token
        if token is not None and token.customer_id and visitor.issuing_bank_id == bank.id:
            return token.customer_id
        reference = consent.bank_user or "accounts:" + ",".join(sorted(a.id for a in consent.accounts))
        return customer_id_for(self.keyed_hash, bank.id, reference)

    # --- the steps ------------------------------------------------------------------------

    async def choose(self, request: TokenRequest, visitor: Visitor, bank_id: str) -> ToConsent:
        bank = check_choice(request, self.banks.get(bank_id))
        await self.store.choose_bank(request.id, bank.id, visitor.session)
        return ToConsent(bank)

    def chosen_bank(self, state: FlowState | None, visitor: Visitor) -> Bank:
        state = check_chooser(state, visitor.session)
        bank = self.banks.get(state.bank_id or "")
        if bank is None:
            raise NotAllowed("choose_bank_first", "choose your bank again")
        return bank

    async def consent_screen(self, request: TokenRequest, state: FlowState | None, visitor: Visitor) -> ConsentScreen | BankDown:
        bank = self.chosen_bank(state, visitor)
        if not (trusted_path(visitor, bank, self.now()) and self.banks.offers_trusted(bank)):
            return ConsentScreen(bank, None)
        try:
            accounts = await self.banks.trusted_accounts(bank, visitor.client_token.customer_ref or "")  # type: ignore[union-attr]
        except (BankUnavailable, AccountUnknown):
            return BankDown(bank, can_choose_again=request.bank_id is None)
        return ConsentScreen(bank, tuple(accounts))

    async def allow(self, request: TokenRequest, state: FlowState | None, visitor: Visitor, *, app_name: str,
                    chosen_accounts: tuple[str, ...] = ()) -> ToBank | BackToTpp | Finished | BankDown:
        bank = self.chosen_bank(state, visitor)
        valid_until = (self.now() + timedelta(days=request.details["token_expiration_days"])).date()
        if trusted_path(visitor, bank, self.now()) and self.banks.offers_trusted(bank):
            return await self._allow_trusted(request, bank, visitor, chosen_accounts, valid_until)
        nonce = secrets.token_urlsafe(24)
        ask = ConsentAsk(resources=tuple(request.resources), valid_until=valid_until,
                         return_url=self.return_url(request.id, nonce), app_name=app_name,
                         customer=visitor.context)
        try:
            started = await self.banks.start(bank, ask)
        except BankUnavailable:
            return BankDown(bank, can_choose_again=request.bank_id is None)
        if not await self.store.go_to_bank(request.id, visitor.session, nonce, started.handle, started.redirect_url):
            return await self._decided_meanwhile(request.id, visitor.session)
        return ToBank(bank, started.redirect_url, external=bank.requires_external_auth)

    async def _allow_trusted(self, request: TokenRequest, bank: Bank, visitor: Visitor, chosen: tuple[str, ...],
                             valid_until: object) -> BackToTpp | Finished | BankDown:
        token = visitor.client_token
        assert token is not None and token.customer_ref is not None
        try:
            available = tuple(await self.banks.trusted_accounts(bank, token.customer_ref))
            picked = check_chosen_accounts(chosen, available)
            if not await self.store.spend_strong_auth(token.id):
                raise Conflict("strong_auth_used", "this sign-in was used already; open the link from the app again")
            consent = await self.banks.trusted_grant(bank, token.customer_ref, picked, tuple(request.resources), valid_until)
        except (BankUnavailable, AccountUnknown):
            return BankDown(bank, can_choose_again=request.bank_id is None)
        return await self._grant(request, bank, consent, visitor)

    def at_bank(self, state: FlowState | None, visitor: Visitor) -> tuple[Bank, str]:
        """The bank the chooser is authorising at and its page (the live bank state: the chooser's only)."""
        bank = self.chosen_bank(state, visitor)
        if state is None or state.bank_url is None or state.bank_nonce is None:
            raise NotAllowed("choose_bank_first", "choose your bank again")
        return bank, state.bank_url

    async def bank_returned(self, request: TokenRequest, state: FlowState | None, nonce: str,
                            visitor: Visitor) -> BackToTpp | Finished | BankDown:
        """The bank sent the customer back, in whatever browser: ask the bank how it ended. The
        return works once."""
        if request.status_at(self.now()) != "PENDING":
            return await self.ending(request, state, visitor.session)
        bank = self.banks.get(state.bank_id or "") if state else None
        handle = await self.store.take_return(request.id, nonce) if bank is not None else None
        if handle is None or bank is None:
            raise Conflict("bank_return_used", "this return from the bank was used already")
        try:
            finished = await self.banks.finish(bank, handle, visitor.context)
        except BankUnavailable:
            return BankDown(bank, can_choose_again=request.bank_id is None)
        if finished.outcome != "granted" or finished.consent is None:
            return await self.end_without_token(request, visitor.session, ACCESS_DENIED)
        return await self._grant(request, bank, finished.consent, visitor)
