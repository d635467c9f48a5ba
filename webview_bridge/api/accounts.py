"""Account data for the grantee of a token (PROTOCOL §7): every call carries the app's bearer
token and `On-Behalf-Of: tt_…`, and answers only what the customer granted."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.api.auth import require_app
from webview_bridge.api.models import Money, MoneyIn, Timestamp
from webview_bridge.api.operations import ApiRoute, Operation, ResponseModel, StrictModel, json_response, parse_body, parse_query
from webview_bridge.banks import connector as bank
from webview_bridge.banks.directory import Bank, get_bank
from webview_bridge.domain.tokens import Token, check_account, check_redemption
from webview_bridge.errors import ApiError
from webview_bridge.runtime import Runtime
from webview_bridge.store import tokens as token_store


def _money(money: bank.Money) -> Money:
    return Money(**money.as_json())


class AccountView(ResponseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    type: str
    currency: str
    bank_id: str
    account_details: dict[str, Any] | None = None

    @classmethod
    def of(cls, account: bank.Account) -> AccountView:
        details = None
        if account.details is not None:
            details = {**account.details.__dict__}
        return cls(id=account.id, name=account.name, type=account.type, currency=account.currency,
                   bank_id=account.bank_id, account_details=details)


class AccountList(ResponseModel):
    accounts: list[AccountView]


class AccountEnvelope(ResponseModel):
    account: AccountView


class BalanceView(ResponseModel):
    account_id: str
    current: Money
    available: Money
    updated_at: Timestamp


class BalanceEnvelope(ResponseModel):
    balance: BalanceView


class TransactionView(ResponseModel):
    id: str
    type: str
    status: str
    amount: Money
    description: str
    booked_at: Timestamp

    @classmethod
    def of(cls, tx: bank.Transaction) -> TransactionView:
        return cls(id=tx.id, type=tx.type, status=tx.status, amount=_money(tx.amount),
                   description=tx.description, booked_at=tx.booked_at)


class TransactionPage(ResponseModel):
    transactions: list[TransactionView]
    offset: str | None = Field(description="cursor for the next page; null on the last page")


class TransactionEnvelope(ResponseModel):
    transaction: TransactionView


class StandingOrderView(ResponseModel):
    id: str
    amount: Money
    frequency: str
    next_payment_date: date
    creditor_name: str
    creditor_identifier: dict[str, Any]
    reference: str
    status: str


class StandingOrderList(ResponseModel):
    standing_orders: list[StandingOrderView]


class TransferDestinationView(ResponseModel):
    type: str
    identifiers: dict[str, str]


class TransferDestinationList(ResponseModel):
    transfer_destinations: list[TransferDestinationView]


class FundsConfirmationIn(StrictModel):
    amount: MoneyIn


class FundsConfirmation(ResponseModel):
    funds_available: bool


class TransactionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)
    offset: str | None = Field(None, max_length=200, description="the cursor from the previous page")
    start_date: date | None = None
    end_date: date | None = None


# --- the redemption rules, applied in order ------------------------------------------------

async def _redeem(request: Request, resource: str) -> tuple[Runtime, Token, Bank]:
    caller = await require_app(request, "tpp")
    token_id = request.headers.get("on-behalf-of", "").strip()
    if not token_id:
        raise ApiError(400, "missing_on_behalf_of", "send On-Behalf-Of: <token id>", "On-Behalf-Of")
    runtime: Runtime = request.app.state.runtime
    token = await runtime.db.run(token_store.get, runtime.db, token_id)
    token = check_redemption(token, caller.app.id, resource, runtime.clock.now())
    found = get_bank(token.bank_id)
    if found is None:  # the directory lost a bank that tokens still name
        raise ApiError(503, "bank_unavailable", "the bank is not available")
    return runtime, token, found


async def _call_bank(runtime: Runtime, fn: Any, *args: Any) -> Any:
    try:
        return await runtime.ask_bank(fn, *args)
    except bank.BankUnavailable:
        raise ApiError(503, "bank_unavailable", "the bank is not answering; try again later")


async def _granted_accounts(runtime: Runtime, token: Token, found: Bank) -> list[bank.Account]:
    accounts = await _call_bank(runtime, runtime.connector.accounts, found, token.customer_ref)
    return [a for a in accounts if a.id in token.account_ids]


async def _one_account(request: Request, resource: str) -> tuple[Runtime, Token, Bank, bank.Account]:
    runtime, token, found = await _redeem(request, resource)
    account_id = request.path_params["account_id"]
    check_account(token, account_id)
    for account in await _granted_accounts(runtime, token, found):
        if account.id == account_id:
            return runtime, token, found, account
    raise ApiError(404, "account_not_found", "the bank no longer has this account")


# --- handlers ------------------------------------------------------------------------------

async def list_accounts(request: Request) -> JSONResponse:
    runtime, token, found = await _redeem(request, "ACCOUNTS")
    accounts = await _granted_accounts(runtime, token, found)
    return json_response(AccountList(accounts=[AccountView.of(a) for a in accounts]))


async def get_account(request: Request) -> JSONResponse:
    *_, account = await _one_account(request, "ACCOUNTS")
    return json_response(AccountEnvelope(account=AccountView.of(account)))


async def get_balance(request: Request) -> JSONResponse:
    runtime, token, found, account = await _one_account(request, "BALANCES")
    balance = await _call_bank(runtime, runtime.connector.balance, found, token.customer_ref, account, runtime.clock.now())
    return json_response(BalanceEnvelope(balance=BalanceView(
        account_id=balance.account_id, current=_money(balance.current), available=_money(balance.available),
        updated_at=balance.updated_at,
    )))


def _cursor(tx: bank.Transaction) -> str:
    return base64.urlsafe_b64encode(f"{tx.booked_at.isoformat()}|{tx.id}".encode()).decode().rstrip("=")


def _after_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        booked_at, tx_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|", 1)
        return datetime.fromisoformat(booked_at), tx_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_cursor", "offset is not a cursor this server gave out", "offset")


async def list_transactions(request: Request) -> JSONResponse:
    query = parse_query(request, TransactionsQuery)
    runtime, token, found, account = await _one_account(request, "TRANSACTIONS")
    if (query.start_date or query.end_date) and not found.supports_transactions_date_filter:
        raise ApiError(400, "date_filter_not_supported", f"{found.name} cannot filter transactions by date", "start_date")
    if query.start_date and query.end_date and query.start_date > query.end_date:
        raise ApiError(400, "invalid_date_range", "start_date is after end_date", "start_date")
    history = await _call_bank(runtime, runtime.connector.transactions, found, token.customer_ref, account, runtime.clock.now())
    if query.start_date:
        history = [t for t in history if t.booked_at.date() >= query.start_date]
    if query.end_date:
        history = [t for t in history if t.booked_at.date() <= query.end_date]
    if query.offset:
        after = _after_cursor(query.offset)
        history = [t for t in history if (t.booked_at, t.id) < after]
    page = history[: query.limit]
    next_cursor = _cursor(page[-1]) if len(history) > query.limit else None
    return json_response(TransactionPage(transactions=[TransactionView.of(t) for t in page], offset=next_cursor))


async def get_transaction(request: Request) -> JSONResponse:
    runtime, token, found, account = await _one_account(request, "TRANSACTIONS")
    history = await _call_bank(runtime, runtime.connector.transactions, found, token.customer_ref, account, runtime.clock.now())
    for tx in history:
        if tx.id == request.path_params["transaction_id"]:
            return json_response(TransactionEnvelope(transaction=TransactionView.of(tx)))
    raise ApiError(404, "transaction_not_found", "no such transaction on this account")


async def list_standing_orders(request: Request) -> JSONResponse:
    runtime, token, found, account = await _one_account(request, "STANDING_ORDERS")
    orders = await _call_bank(runtime, runtime.connector.standing_orders, found, token.customer_ref, account, runtime.clock.now())
    return json_response(StandingOrderList(standing_orders=[
        StandingOrderView(**{**o.__dict__, "amount": _money(o.amount)}) for o in orders
    ]))


async def list_transfer_destinations(request: Request) -> JSONResponse:
    runtime, token, found, account = await _one_account(request, "TRANSFER_DESTINATIONS")
    destinations = await _call_bank(runtime, runtime.connector.transfer_destinations, found, token.customer_ref, account)
    return json_response(TransferDestinationList(transfer_destinations=[
        TransferDestinationView(type=d.type, identifiers=d.identifiers) for d in destinations
    ]))


async def confirm_funds(request: Request) -> JSONResponse:
    body = await parse_body(request, FundsConfirmationIn)
    runtime, token, found, account = await _one_account(request, "FUNDS_CONFIRMATIONS")
    if body.amount.currency != account.currency:
        raise ApiError(400, "currency_mismatch", f"the account holds {account.currency}", "amount.currency")
    amount = body.amount.decimal()
    if amount <= 0:
        raise ApiError(400, "invalid_value", "amount.value must be more than zero", "amount.value")
    balance = await _call_bank(runtime, runtime.connector.balance, found, token.customer_ref, account, runtime.clock.now())
    return json_response(FundsConfirmation(funds_available=balance.available.value >= amount))


def _op(summary: str, resource: str, response: Any, **extra: Any) -> Operation:
    return Operation(f"{summary} (needs {resource})", auth="tpp", responses={200: response}, tags=["accounts"],
                     headers=("On-Behalf-Of",), **extra)


routes = [
    ApiRoute("/accounts", list_accounts, methods=["GET"], operation=_op("The granted accounts", "ACCOUNTS", AccountList)),
    ApiRoute("/accounts/{account_id}", get_account, methods=["GET"], operation=_op("One account", "ACCOUNTS", AccountEnvelope)),
    ApiRoute("/accounts/{account_id}/balance", get_balance, methods=["GET"],
             operation=_op("An account's balance", "BALANCES", BalanceEnvelope)),
    ApiRoute("/accounts/{account_id}/transactions", list_transactions, methods=["GET"],
             operation=_op("Transactions, newest first, by cursor", "TRANSACTIONS", TransactionPage, query=TransactionsQuery)),
    ApiRoute("/accounts/{account_id}/transactions/{transaction_id}", get_transaction, methods=["GET"],
             operation=_op("One transaction", "TRANSACTIONS", TransactionEnvelope)),
    ApiRoute("/accounts/{account_id}/standing-orders", list_standing_orders, methods=["GET"],
             operation=_op("Standing orders", "STANDING_ORDERS", StandingOrderList)),
    ApiRoute("/accounts/{account_id}/transfer-destinations", list_transfer_destinations, methods=["GET"],
             operation=_op("Where transfers to this account can be sent", "TRANSFER_DESTINATIONS", TransferDestinationList)),
    ApiRoute("/accounts/{account_id}/funds-confirmation", confirm_funds, methods=["POST"],
             operation=_op("Are funds available for an amount?", "FUNDS_CONFIRMATIONS", FundsConfirmation, body=FundsConfirmationIn)),
]
