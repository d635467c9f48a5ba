"""A bank's view of what its customers shared (PROTOCOL §14): GET /customers/{client_id}/grants
and PUT /customers/{client_id}/grants/{token_id}/cancel, for the bank's own UI."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.api.auth import require_app
from webview_bridge.wire import Timestamp
from webview_bridge.api.operations import ApiRoute, Operation, ResponseModel, json_response
from webview_bridge.api.tokens import token_view
from webview_bridge.wire import TokenEnvelope
from webview_bridge.domain.tokens import belongs_to_customer
from webview_bridge.errors import not_found
from webview_bridge.store import customers as customer_store
from webview_bridge.store import tokens as token_store
from webview_bridge.runtime import Runtime


class Party(ResponseModel):
    app_id: str
    name: str


class AccountName(ResponseModel):
    id: str
    name: str


class GrantView(ResponseModel):
    token_id: str
    tpp: Party
    acting_as: dict[str, Any] | None
    resources: list[str]
    accounts: list[AccountName]
    created_at: Timestamp
    expires_at: Timestamp

    @classmethod
    def of(cls, row: token_store.GrantRow) -> GrantView:
        token = row.token
        return cls(token_id=token.id, tpp=Party(app_id=token.app_id, name=row.tpp_name), acting_as=row.acting_as,
                   resources=list(token.resources), accounts=[AccountName(**a) for a in row.accounts],
                   created_at=token.created_at, expires_at=token.expires_at)


class GrantList(ResponseModel):
    grants: list[GrantView]


async def _customer(request: Request, runtime: Runtime) -> tuple[Any, str, str]:
    """The calling bank app, and the customer it preloaded under this client id (anyone else's: 404)."""
    caller = await require_app(request, runtime, "bank")
    client_id = request.path_params["client_id"]
    customer_id = await runtime.db.run(customer_store.customer_id_of, runtime.db, caller.app.id, client_id)
    if customer_id is None:
        raise not_found("customer", "customer_not_found")
    return caller.app, customer_id, client_id


async def list_grants(request: Request, runtime: Runtime) -> JSONResponse:
    bank_app, customer_id, client_id = await _customer(request, runtime)
    rows = await runtime.db.run(token_store.grants, runtime.db, runtime.clock, bank_app.bank_id, customer_id, client_id)
    return json_response(GrantList(grants=[GrantView.of(r) for r in rows]))


async def cancel_grant(request: Request, runtime: Runtime) -> JSONResponse:
    """Idempotent, as the TPP's own cancel is: a cancelled grant stays cancelled."""
    bank_app, customer_id, client_id = await _customer(request, runtime)
    token = await runtime.db.run(token_store.get, runtime.db, request.path_params["token_id"])
    if token is None or not belongs_to_customer(token, bank_app.bank_id, customer_id, client_id):
        raise not_found("token", "token_not_found")
    cancelled = await runtime.db.run(token_store.cancel, runtime.db, runtime.clock, token.id)
    runtime.wake_worker()
    return json_response(TokenEnvelope(token=token_view(cancelled, runtime.clock.now())))


routes = [
    ApiRoute("/customers/{client_id}/grants", list_grants, methods=["GET"], name="list_grants", operation=Operation(
        "What a customer shared from this bank (active tokens)", auth="bank", responses={200: GrantList},
        tags=["customers"])),
    ApiRoute("/customers/{client_id}/grants/{token_id}/cancel", cancel_grant, methods=["PUT"], name="cancel_grant", operation=Operation(
        "Stop a customer's grant (idempotent)", auth="bank", responses={200: TokenEnvelope}, tags=["customers"])),
]
