"""The protocol's JSON shapes (PROTOCOL §1–§12), shared by the server and the TPP helper.

This module needs only pydantic, so a TPP's backend that installs the client (`pip install
webview-bridge`) can read the server's answers without the server's own machinery. The server
adds how each shape is made from its records (api/); the shapes themselves live here, once.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from webview_bridge.clock import rfc3339

RESOURCES = ("ACCOUNTS", "BALANCES", "TRANSACTIONS", "TRANSFER_DESTINATIONS", "FUNDS_CONFIRMATIONS", "STANDING_ORDERS")
Resource = Literal["ACCOUNTS", "BALANCES", "TRANSACTIONS", "TRANSFER_DESTINATIONS", "FUNDS_CONFIRMATIONS", "STANDING_ORDERS"]
Status = Literal["ACTIVE", "CANCELLED", "EXPIRED"]
_MONEY_VALUE = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


class StrictModel(BaseModel):
    """Request bodies: strict types, unknown fields refused (PROTOCOL §1)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _rfc3339(moment: datetime) -> str:
    return rfc3339(moment)


# RFC 3339 in UTC with second precision, as PROTOCOL §1 writes it: 2026-11-21T08:00:00Z
Timestamp = Annotated[datetime, PlainSerializer(_rfc3339, return_type=str, when_used="json")]


class Money(ResponseModel):
    currency: str
    value: str = Field(description="a decimal string, e.g. \"1234.50\"")


class MoneyIn(StrictModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    value: str = Field(description="a decimal string with at most 2 decimals, e.g. \"1234.50\"")

    @field_validator("value")
    @classmethod
    def _decimal_string(cls, value: str) -> str:
        if not _MONEY_VALUE.match(value):
            raise ValueError("value must be a decimal string such as \"1234.50\"")
        return value

    def decimal(self) -> Decimal:
        try:
            return Decimal(self.value)
        except InvalidOperation:  # pragma: no cover - the pattern already refused it
            raise ValueError(self.value)


class Paging(ResponseModel):
    page: int
    per_page: int
    page_count: int
    total_count: int


class AccountView(ResponseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    type: str
    currency: str
    bank_id: str
    account_details: dict[str, Any] | None = None


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
    name: str | None = None


class TransferDestinationList(ResponseModel):
    transfer_destinations: list[TransferDestinationView]


class FundsConfirmationIn(StrictModel):
    amount: MoneyIn


class FundsConfirmation(ResponseModel):
    funds_available: bool


class BankView(ResponseModel):
    id: str
    name: str
    bic: str
    countries: list[str]
    logo_uri: str
    status: Literal["available", "maintenance"]
    supports_account_details_api: bool
    supports_balance: bool
    supports_transactions_date_filter: bool
    supports_standing_order: bool
    supports_funds_confirmation: bool
    supports_information: bool
    requires_external_auth: bool


class BankList(ResponseModel):
    banks: list[BankView]
    paging: Paging


class AppView(ResponseModel):
    id: str
    name: str
    roles: list[str]
    scope: list[str]
    redirect_urls: list[str]
    bank_id: str | None
    created_at: datetime


class AppEnvelope(ResponseModel):
    app: AppView


class TokenRequestView(ResponseModel):
    id: str
    status: Literal["PENDING", "PROCESSED", "REJECTED", "EXPIRED"]
    created_at: Timestamp
    expires_at: Timestamp
    csrf_token_hash: str
    resources: list[Resource]
    redirect_url: str
    ref_id: str
    description: str
    callback_state: str | None
    bank_id: str | None
    from_alias: dict[str, str] | None
    customization_id: str | None
    token_expiration_days: int
    acting_as: dict[str, str | None] | None
    countries: list[str] | None
    receipt_requested: bool
    trace_id: str | None
    replaces_token_id: str | None = None
    text_language: str | None = None


class TokenRequestEnvelope(ResponseModel):
    token_request: TokenRequestView


class TokenRequestCreated(ResponseModel):
    token_request: TokenRequestView
    url: str


class TokenRequestResult(ResponseModel):
    request_id: str
    status: Literal["PENDING", "PROCESSED", "REJECTED", "EXPIRED"]
    token_id: str | None = None
    error: str | None = None
    replaces_token_id: str | None = None


class TokenView(ResponseModel):
    id: str
    request_id: str
    app_id: str
    customer_id: str
    bank_id: str
    resources: list[str]
    account_ids: list[str]
    status: Status
    created_at: Timestamp
    expires_at: Timestamp


class TokenEnvelope(ResponseModel):
    token: TokenView


class TokenList(ResponseModel):
    tokens: list[TokenView]
    paging: Paging


class WebhookView(ResponseModel):
    id: str
    url: str
    events: list[str] | None
    status: Literal["active", "disabled"]
    created_at: Timestamp
    failing_since: Timestamp | None = None
    last_error: str | None = None
    disabled_reason: str | None = None


class WebhookCreatedView(WebhookView):
    secret: str = Field(description="whsec_ + base64 of 32 random bytes; shown only here")


class WebhookCreated(ResponseModel):
    webhook: WebhookCreatedView


class WebhookEnvelope(ResponseModel):
    webhook: WebhookView


class WebhookList(ResponseModel):
    webhooks: list[WebhookView]


class EventView(ResponseModel):
    id: str
    type: str
    created_at: Timestamp
    data: dict[str, str]


class EventList(ResponseModel):
    events: list[EventView]
