"""Account data for the grantee of a token (PROTOCOL §7): every call carries the app's bearer
token and `On-Behalf-Of: tt_…`, and answers only what the customer granted."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from itsdangerous import BadSignature

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.wire import AccountEnvelope, AccountList, AccountView, BalanceEnvelope, BalanceView, FundsConfirmation, FundsConfirmationIn, StandingOrderList, StandingOrderView, TransactionEnvelope, TransactionPage, TransactionView, TransferDestinationList, TransferDestinationView
from webview_bridge.api.auth import require_app
from webview_bridge.wire import Money
from webview_bridge.api.operations import ApiRoute, Operation, json_response, parse_body, parse_query
from webview_bridge.banks import model as bank
from webview_bridge.banks.directory import Bank
from webview_bridge.banks.model import AccountUnknown, BankRateLimited, BankUnavailable, ConsentEnded
from webview_bridge.banks.registry import Grant
from webview_bridge.domain.account_data import page, transaction_window
from webview_bridge.domain.tokens import Token, check_account, check_redemption
from webview_bridge.errors import ApiError
from webview_bridge.runtime import Runtime
from webview_bridge.store import tokens as token_store

T = TypeVar("T")


def _money(money: bank.Money) -> Money:
    return Money(**money.as_json())


class TransactionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)
    offset: str | None = Field(None, max_length=400, description="the cursor from the previous page")
    start_date: date | None = None
    end_date: date | None = None


# --- the redemption rules, applied in order ------------------------------------------------

@dataclass(frozen=True)
class Redeemed:
    runtime: Runtime
    token: Token
    bank: Bank
    grant: Grant


def account_view(account: bank.Account) -> AccountView:
    details = None
    if account.details is not None:
        details = {**account.details.__dict__}
    return AccountView(id=account.id, name=account.name, type=account.type, currency=account.currency,
               bank_id=account.bank_id, account_details=details)


def transaction_view(tx: bank.Transaction) -> TransactionView:
    return TransactionView(id=tx.id, type=tx.type, status=tx.status, amount=_money(tx.amount),
               description=tx.description, booked_at=tx.booked_at)


async def _redeem(request: Request, runtime: Runtime, resource: str) -> Redeemed:
    caller = await require_app(request, runtime, "tpp")
    token_id = request.headers.get("on-behalf-of", "").strip()
    if not token_id:
        raise ApiError(400, "missing_on_behalf_of", "send On-Behalf-Of: <token id>", "On-Behalf-Of")
    found_token, sealed = await runtime.db.run(token_store.get_sealed, runtime.db, token_id) or (None, None)
    token = check_redemption(found_token, caller.app.id, resource, runtime.clock.now())
    found = runtime.banks.get(token.bank_id)
    if found is None:  # the directory lost a bank that tokens still name
        raise ApiError(503, "bank_unavailable", "the bank is not available")
    try:
        credentials = token_store.open_consent(runtime.keyring, sealed, token.id)
    except KeyError:
        raise ApiError(503, "bank_unavailable", "this token holds no consent at its bank")
    return Redeemed(runtime, token, found, Grant(token.id, found.id, credentials))


async def _ask_bank(redeemed: Redeemed, call: Awaitable[T]) -> T:
    """A read from the bank, its failures in the protocol's words."""
    try:
        return await call
    except BankUnavailable as exc:
        headers = {"Retry-After": str(exc.retry_after or 30)}
        raise ApiError(503, "bank_unavailable", "the bank is not answering; try again later", headers=headers)
    except BankRateLimited as exc:
        raise ApiError(429, "bank_rate_limited", "the bank allows no more reads for now",
                       headers={"Retry-After": str(exc.retry_after)})
    except AccountUnknown:
        raise ApiError(404, "account_not_found", "the bank does not know this account for this token")
    except ConsentEnded as exc:
        runtime = redeemed.runtime
        if exc.how == "expired":
            raise ApiError(403, "token_expired", "the bank says this consent has expired", "On-Behalf-Of")
        await runtime.db.run(token_store.cancel, runtime.db, runtime.clock, redeemed.token.id)
        raise ApiError(403, "token_cancelled", "the consent was revoked at the bank", "On-Behalf-Of")


async def _one_account(request: Request, runtime: Runtime, resource: str) -> tuple[Redeemed, str]:
    redeemed = await _redeem(request, runtime, resource)
    account_id = request.path_params["account_id"]
    check_account(redeemed.token, account_id)
    return redeemed, account_id


# --- handlers ------------------------------------------------------------------------------

async def list_accounts(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed = await _redeem(request, runtime, "ACCOUNTS")
    accounts = await _ask_bank(redeemed, redeemed.runtime.banks.accounts(redeemed.grant))
    granted = [a for a in accounts if a.id in redeemed.token.account_ids]
    return json_response(AccountList(accounts=[account_view(a) for a in granted]))


async def get_account(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed, account_id = await _one_account(request, runtime, "ACCOUNTS")
    accounts = await _ask_bank(redeemed, redeemed.runtime.banks.accounts(redeemed.grant))
    for account in accounts:
        if account.id == account_id:
            return json_response(AccountEnvelope(account=account_view(account)))
    raise ApiError(404, "account_not_found", "the bank no longer has this account")


async def get_balance(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed, account_id = await _one_account(request, runtime, "BALANCES")
    balance = await _ask_bank(redeemed, redeemed.runtime.banks.balance(redeemed.grant, account_id))
    return json_response(BalanceEnvelope(balance=BalanceView(
        account_id=account_id, current=_money(balance.current), available=_money(balance.available),
        updated_at=balance.updated_at,
    )))


def _cursor(runtime: Runtime, token_id: str, after: tuple[str, str]) -> str:
    """Signed, and bound to its token: a forged or borrowed cursor is refused, never parsed."""
    return runtime.keyring.serializer("transactions-cursor").dumps([token_id, *after])


def _after_cursor(runtime: Runtime, token_id: str, cursor: str) -> tuple[datetime, str]:
    try:
        owner, booked_at, tx_id = runtime.keyring.serializer("transactions-cursor").loads(cursor)
        if owner != token_id:
            raise ValueError("another token's cursor")
        return datetime.fromisoformat(booked_at), str(tx_id)
    except (BadSignature, ValueError, TypeError):
        raise ApiError(400, "invalid_cursor", "offset is not a cursor this server gave out", "offset")


async def list_transactions(request: Request, runtime: Runtime) -> JSONResponse:
    query = parse_query(request, TransactionsQuery)
    redeemed, account_id = await _one_account(request, runtime, "TRANSACTIONS")
    runtime = redeemed.runtime
    after = _after_cursor(runtime, redeemed.token.id, query.offset) if query.offset else None
    date_from, date_to = transaction_window(query.start_date, query.end_date, runtime.clock.now().date(),
                                            redeemed.bank.supports_transactions_date_filter)
    history = await _ask_bank(redeemed, runtime.banks.transactions(redeemed.grant, account_id, date_from, date_to))
    if query.end_date:
        history = [t for t in history if t.booked_at.date() <= query.end_date]
    shown = page(history, after, query.limit)
    next_cursor = _cursor(runtime, redeemed.token.id, shown.next_after) if shown.next_after else None
    return json_response(TransactionPage(transactions=[transaction_view(t) for t in shown.transactions],
                                         offset=next_cursor))


async def get_transaction(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed, account_id = await _one_account(request, runtime, "TRANSACTIONS")
    transaction_id = request.path_params["transaction_id"]
    runtime = redeemed.runtime
    try:
        found = await _ask_bank(redeemed, runtime.banks.transaction(redeemed.grant, account_id, transaction_id))
    except ApiError as error:
        if error.code != "account_not_found":
            raise
        # Card accounts have no single-transaction call at the bank: look in the default range.
        date_from, _ = transaction_window(None, None, runtime.clock.now().date(), False)
        history = await _ask_bank(redeemed, runtime.banks.transactions(redeemed.grant, account_id, date_from, None))
        found = next((t for t in history if t.id == transaction_id), None)
        if found is None:
            raise ApiError(404, "transaction_not_found", "no such transaction on this account")
    return json_response(TransactionEnvelope(transaction=transaction_view(found)))


async def list_standing_orders(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed, account_id = await _one_account(request, runtime, "STANDING_ORDERS")
    orders = await _ask_bank(redeemed, redeemed.runtime.banks.standing_orders(redeemed.grant, account_id))
    return json_response(StandingOrderList(standing_orders=[
        StandingOrderView(**{**o.__dict__, "amount": _money(o.amount)}) for o in orders
    ]))


async def list_transfer_destinations(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed, account_id = await _one_account(request, runtime, "TRANSFER_DESTINATIONS")
    destinations = await _ask_bank(redeemed, redeemed.runtime.banks.transfer_destinations(redeemed.grant, account_id))
    return json_response(TransferDestinationList(transfer_destinations=[
        TransferDestinationView(type=d.type, identifiers=d.identifiers, name=d.name) for d in destinations
    ]))


async def confirm_funds(request: Request, runtime: Runtime) -> JSONResponse:
    redeemed, account_id = await _one_account(request, runtime, "FUNDS_CONFIRMATIONS")  # who asks, before what they sent
    body = await parse_body(request, FundsConfirmationIn)
    amount = body.amount.decimal()
    if amount <= 0:
        raise ApiError(400, "invalid_value", "amount.value must be more than zero", "amount.value")
    accounts = await _ask_bank(redeemed, redeemed.runtime.banks.accounts(redeemed.grant))
    account = next((a for a in accounts if a.id == account_id), None)
    if account is None:
        raise ApiError(404, "account_not_found", "the bank no longer has this account")
    if body.amount.currency != account.currency:
        raise ApiError(400, "currency_mismatch", f"the account holds {account.currency}", "amount.currency")
    available = await _ask_bank(redeemed, redeemed.runtime.banks.funds_available(
        redeemed.grant, account_id, bank.Money(body.amount.currency, amount)))
    return json_response(FundsConfirmation(funds_available=available))


def _op(summary: str, resource: str, response: Any, **extra: Any) -> Operation:
    return Operation(f"{summary} (needs {resource})", auth="tpp", responses={200: response}, tags=["accounts"],
                     headers=("On-Behalf-Of",), **extra)


routes = [
    ApiRoute("/accounts", list_accounts, methods=["GET"], name="list_accounts", operation=_op("The granted accounts", "ACCOUNTS", AccountList)),
    ApiRoute("/accounts/{account_id}", get_account, methods=["GET"], name="account", operation=_op("One account", "ACCOUNTS", AccountEnvelope)),
    ApiRoute("/accounts/{account_id}/balance", get_balance, methods=["GET"], name="balance",
             operation=_op("An account's balance", "BALANCES", BalanceEnvelope)),
    ApiRoute("/accounts/{account_id}/transactions", list_transactions, methods=["GET"], name="list_transactions",
             operation=_op("Transactions, newest first, by cursor", "TRANSACTIONS", TransactionPage, query=TransactionsQuery)),
    ApiRoute("/accounts/{account_id}/transactions/{transaction_id}", get_transaction, methods=["GET"], name="transaction",
             operation=_op("One transaction", "TRANSACTIONS", TransactionEnvelope)),
    ApiRoute("/accounts/{account_id}/standing-orders", list_standing_orders, methods=["GET"], name="list_standing_orders",
             operation=_op("Standing orders", "STANDING_ORDERS", StandingOrderList)),
    ApiRoute("/accounts/{account_id}/transfer-destinations", list_transfer_destinations, methods=["GET"], name="list_transfer_destinations",
             operation=_op("Where transfers to this account can be sent", "TRANSFER_DESTINATIONS", TransferDestinationList)),
    ApiRoute("/accounts/{account_id}/funds-confirmation", confirm_funds, methods=["POST"], name="confirm_funds",
             operation=_op("Are funds available for an amount?", "FUNDS_CONFIRMATIONS", FundsConfirmation, body=FundsConfirmationIn)),
]
