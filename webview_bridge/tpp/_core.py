"""What the sync and async clients share: every call of the protocol, written once, and the
rules for tokens, responses and errors. Only `_send` differs between the two clients."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx2
from pydantic import BaseModel, ValidationError

from webview_bridge.wire import (
    AccountEnvelope, AccountList, AccountView, AppEnvelope, AppView, BalanceEnvelope, BalanceView, BankList, EventList,
    EventView, FundsConfirmation, StandingOrderList, StandingOrderView, TokenEnvelope, TokenList, TokenRequestCreated,
    TokenRequestEnvelope, TokenRequestResult, TokenRequestView, TokenView, TransactionEnvelope, TransactionPage,
    TransactionView, TransferDestinationList, TransferDestinationView, WebhookCreated, WebhookCreatedView,
    WebhookEnvelope, WebhookList, WebhookView,
)

T = TypeVar("T")
# Renew a little before the server would refuse the token.
EXPIRY_MARGIN_SECONDS = 30


class BridgeError(Exception):
    """The one exception of the TPP helper. `code` is the protocol's error code (`not_grantee`,
    `invalid_client`, …), or `timeout` / `server_unreachable` / `bad_response` when there was no
    usable answer."""

    def __init__(self, code: str, message: str, *, status: int | None = None, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: what to send and how to read the answer."""

    method: str
    path: str
    read: Callable[[Any], T]
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] | None = None
    auth: bool = True


def _model(model: type[BaseModel], pick: Callable[[Any], T] = lambda m: m) -> Callable[[Any], T]:
    def read(body: Any) -> T:
        return pick(model.model_validate(body))

    return read


def _segment(value: str) -> str:
    """An id as one path segment, whatever it holds: percent-encoded, dots included, so that no
    id can climb out of its path ("..") or add a query to it."""
    if not isinstance(value, str) or not value:
        raise BridgeError("invalid_value", f"an id must be a non-empty string, not {value!r}")
    return quote(value, safe="").replace(".", "%2E")


def _on_behalf_of(token_id: str) -> dict[str, str]:
    return {"On-Behalf-Of": token_id}


def _query(**values: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else str(v).lower() if isinstance(v, bool) else v)
            for k, v in values.items() if v is not None}


class Operations:
    """Every TPP call of PROTOCOL §2–§7, named after it. Subclasses provide `_run(call)`."""

    def _run(self, call: Call[T]) -> Any:
        raise NotImplementedError

    def me(self) -> AppView:
        return self._run(Call("GET", "/me", _model(AppEnvelope, lambda m: m.app)))

    def get_banks(self, **query: Any) -> BankList:
        """Query keys as in GET /banks: ids, search, countries, page, per_page, sort, supports_… ."""
        for key in ("ids", "countries"):
            if isinstance(query.get(key), (list, tuple)):
                query[key] = ",".join(query[key])
        return self._run(Call("GET", "/banks", _model(BankList), params=_query(**query), auth=False))

    def store_token_request(self, **fields: Any) -> TokenRequestCreated:
        """Fields as in POST /token-requests (resources, redirect_url, ref_id, csrf_token, …)."""
        return self._run(Call("POST", "/token-requests", _model(TokenRequestCreated), json=fields))

    def get_token_request(self, request_id: str) -> TokenRequestView:
        return self._run(Call("GET", f"/token-requests/{_segment(request_id)}", _model(TokenRequestEnvelope, lambda m: m.token_request)))

    def get_token_request_result(self, request_id: str, description: str | None = None) -> TokenRequestResult:
        return self._run(Call("GET", f"/token-requests/{_segment(request_id)}/result", _model(TokenRequestResult),
                              params=_query(description=description)))

    def get_tokens(self, status: str | None = None, page: int = 1, per_page: int = 50) -> TokenList:
        return self._run(Call("GET", "/tokens", _model(TokenList), params=_query(status=status, page=page, per_page=per_page)))

    def get_token(self, token_id: str) -> TokenView:
        return self._run(Call("GET", f"/tokens/{_segment(token_id)}", _model(TokenEnvelope, lambda m: m.token)))

    def cancel_token(self, token_id: str, description: str | None = None) -> TokenView:
        body = {"description": description} if description is not None else {}
        return self._run(Call("PUT", f"/tokens/{_segment(token_id)}/cancel", _model(TokenEnvelope, lambda m: m.token), json=body))

    def get_accounts(self, token_id: str) -> list[AccountView]:
        return self._run(Call("GET", "/accounts", _model(AccountList, lambda m: m.accounts), headers=_on_behalf_of(token_id)))

    def get_account(self, token_id: str, account_id: str) -> AccountView:
        return self._run(Call("GET", f"/accounts/{_segment(account_id)}", _model(AccountEnvelope, lambda m: m.account),
                              headers=_on_behalf_of(token_id)))

    def get_balance(self, token_id: str, account_id: str) -> BalanceView:
        return self._run(Call("GET", f"/accounts/{_segment(account_id)}/balance", _model(BalanceEnvelope, lambda m: m.balance),
                              headers=_on_behalf_of(token_id)))

    def get_transactions(self, token_id: str, account_id: str, *, limit: int | None = None, offset: str | None = None,
                         start_date: date | None = None, end_date: date | None = None) -> TransactionPage:
        return self._run(Call("GET", f"/accounts/{_segment(account_id)}/transactions", _model(TransactionPage),
                              params=_query(limit=limit, offset=offset, start_date=start_date, end_date=end_date),
                              headers=_on_behalf_of(token_id)))

    def get_transaction(self, token_id: str, account_id: str, transaction_id: str) -> TransactionView:
        return self._run(Call("GET", f"/accounts/{_segment(account_id)}/transactions/{_segment(transaction_id)}",
                              _model(TransactionEnvelope, lambda m: m.transaction), headers=_on_behalf_of(token_id)))

    def get_standing_orders(self, token_id: str, account_id: str) -> list[StandingOrderView]:
        return self._run(Call("GET", f"/accounts/{_segment(account_id)}/standing-orders",
                              _model(StandingOrderList, lambda m: m.standing_orders), headers=_on_behalf_of(token_id)))

    def get_transfer_destinations(self, token_id: str, account_id: str) -> list[TransferDestinationView]:
        return self._run(Call("GET", f"/accounts/{_segment(account_id)}/transfer-destinations",
                              _model(TransferDestinationList, lambda m: m.transfer_destinations), headers=_on_behalf_of(token_id)))

    def confirm_funds(self, token_id: str, account_id: str, *, currency: str, value: str) -> bool:
        return self._run(Call("POST", f"/accounts/{_segment(account_id)}/funds-confirmation",
                              _model(FundsConfirmation, lambda m: m.funds_available),
                              json={"amount": {"currency": currency, "value": value}}, headers=_on_behalf_of(token_id)))


    def create_webhook(self, url: str, events: list[str] | None = None) -> WebhookCreatedView:
        """Register an endpoint; its `secret` is in this answer only (keep it to verify deliveries)."""
        body: dict[str, Any] = {"url": url, **({"events": events} if events is not None else {})}
        return self._run(Call("POST", "/webhooks", _model(WebhookCreated, lambda m: m.webhook), json=body))

    def get_webhooks(self) -> list[WebhookView]:
        return self._run(Call("GET", "/webhooks", _model(WebhookList, lambda m: m.webhooks)))

    def get_webhook(self, webhook_id: str) -> WebhookView:
        return self._run(Call("GET", f"/webhooks/{_segment(webhook_id)}", _model(WebhookEnvelope, lambda m: m.webhook)))

    def enable_webhook(self, webhook_id: str) -> WebhookView:
        """Turn an endpoint that was disabled after a day of failures back on."""
        return self._run(Call("PUT", f"/webhooks/{_segment(webhook_id)}", _model(WebhookEnvelope, lambda m: m.webhook),
                              json={"status": "active"}))

    def delete_webhook(self, webhook_id: str) -> None:
        return self._run(Call("DELETE", f"/webhooks/{_segment(webhook_id)}", lambda _: None))

    def get_events(self, after: str | None = None, limit: int | None = None) -> list[EventView]:
        """The app's events of the last 30 days, oldest first, after the event `after` (to catch up)."""
        return self._run(Call("GET", "/events", _model(EventList, lambda m: m.events), params=_query(after=after, limit=limit)))


class TokenKeeper:
    """The backend access token and its refresh token; decides when to fetch, refresh or retry."""

    def __init__(self, app_id: str, app_secret: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.auth = (app_id, app_secret)
        self.clock = clock
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.expires_at = 0.0

    def token_request(self, http: httpx2.Client | httpx2.AsyncClient) -> httpx2.Request:
        """POST /oauth/token with HTTP Basic client authentication (RFC 6749 §2.3.1)."""
        user, password = (quote(part, safe="") for part in self.auth)
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        return http.build_request("POST", "/oauth/token", data=self.grant_form(), headers={"Authorization": f"Basic {basic}"})

    def fresh(self) -> bool:
        return self.access_token is not None and self.clock() < self.expires_at - EXPIRY_MARGIN_SECONDS

    def grant_form(self) -> dict[str, str]:
        """Refresh when we can (rotation keeps the family alive), else client credentials."""
        if self.refresh_token:
            return {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        return {"grant_type": "client_credentials"}

    def take(self, response: httpx2.Response) -> bool:
        """Keep the new tokens; False if a refresh was refused and client credentials should follow."""
        body = _json(response)
        if response.status_code == 200:
            self.access_token = body["access_token"]
            self.refresh_token = body.get("refresh_token")
            self.expires_at = self.clock() + float(body.get("expires_in", 3600))
            return True
        if self.refresh_token and body.get("error") == "invalid_grant":
            self.forget()
            return False
        raise BridgeError(body.get("error", "token_error"), body.get("error_description") or "could not get an access token",
                          status=response.status_code)

    def forget(self) -> None:
        self.access_token = self.refresh_token = None
        self.expires_at = 0.0


def _json(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise BridgeError("bad_response", f"the server answered {response.status_code} without JSON", status=response.status_code)


def read_answer(response: httpx2.Response, read: Callable[[Any], T]) -> T:
    if response.status_code == 204:
        return read(None)
    body = _json(response)
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            raise BridgeError(error.get("code", "error"), error.get("message", ""), status=response.status_code,
                              field=error.get("field"))
        raise BridgeError(str(error or "error"), str(body), status=response.status_code)
    try:
        return read(body)
    except ValidationError as exc:
        raise BridgeError("bad_response", f"unexpected answer: {exc.errors()[0]['msg']}", status=response.status_code)


def transport_error(exc: httpx2.HTTPError) -> BridgeError:
    if isinstance(exc, httpx2.TimeoutException):
        return BridgeError("timeout", f"the server did not answer in time ({type(exc).__name__})")
    return BridgeError("server_unreachable", f"cannot reach the server ({type(exc).__name__}: {exc})")
