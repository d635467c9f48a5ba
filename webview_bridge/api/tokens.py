"""GET /tokens, GET /tokens/{id}, PUT /tokens/{id}/cancel (PROTOCOL §7), for the grantee."""

from __future__ import annotations


from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.wire import Status, TokenEnvelope, TokenList, TokenView
from webview_bridge.api.auth import owned_by, require_app
from webview_bridge.wire import Paging
from webview_bridge.api.operations import ApiRoute, Operation, StrictModel, json_response, parse_body, parse_query
from webview_bridge.domain.token_requests import check_repeated_description
from webview_bridge.domain.tokens import Token
from webview_bridge.store import token_requests as request_store
from webview_bridge.store import tokens as token_store
from webview_bridge.runtime import Runtime

# Beyond any real list, and small enough that page × per_page fits SQL's OFFSET (schemathesis found 10^21).
MAX_PAGE = 1_000_000


class TokensQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class CancelIn(StrictModel):
    description: str | None = Field(None, max_length=255)


def token_view(token: Token, now) -> TokenView:
    return TokenView(
        id=token.id, request_id=token.request_id, app_id=token.app_id, customer_id=token.customer_id,
        bank_id=token.bank_id, resources=list(token.resources), account_ids=list(token.account_ids),
        status=token.status_at(now), created_at=token.created_at, expires_at=token.expires_at,
    )


async def _own_token(request: Request, runtime: Runtime, app_id: str) -> Token:
    token = await runtime.db.run(token_store.get, runtime.db, request.path_params["token_id"])
    return owned_by(token, app_id, "token", "token_not_found")


async def list_tokens(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    query = parse_query(request, TokensQuery)
    found, total = await runtime.db.run(
        token_store.list_for_app, runtime.db, runtime.clock, caller.app.id, query.status, query.page, query.per_page
    )
    now = runtime.clock.now()
    paging = Paging(page=query.page, per_page=query.per_page, page_count=max(1, -(-total // query.per_page)), total_count=total)
    return json_response(TokenList(tokens=[token_view(t, now) for t in found], paging=paging))


async def get_token(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    token = await _own_token(request, runtime, caller.app.id)
    return json_response(TokenEnvelope(token=token_view(token, runtime.clock.now())))


async def cancel_token(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    body = await parse_body(request, CancelIn) if await request.body() else CancelIn()
    token = await _own_token(request, runtime, caller.app.id)
    if body.description is not None:
        origin = await runtime.db.run(request_store.get, runtime.db, token.request_id)
        assert origin is not None
        check_repeated_description(body.description, origin)
    cancelled = await runtime.db.run(token_store.cancel, runtime.db, runtime.clock, token.id)
    assert cancelled is not None
    runtime.wake_worker()  # ends the consent at the bank now, or retries until it can
    return json_response(TokenEnvelope(token=token_view(cancelled, runtime.clock.now())))


routes = [
    ApiRoute("/tokens", list_tokens, methods=["GET"], name="list_tokens", operation=Operation(
        "The caller's tokens", auth="tpp", query=TokensQuery, responses={200: TokenList}, tags=["tokens"])),
    ApiRoute("/tokens/{token_id}", get_token, methods=["GET"], name="token", operation=Operation(
        "A token, for its grantee", auth="tpp", responses={200: TokenEnvelope}, tags=["tokens"])),
    ApiRoute("/tokens/{token_id}/cancel", cancel_token, methods=["PUT"], name="cancel_token", operation=Operation(
        "Cancel a token (idempotent)", auth="tpp", body=CancelIn, responses={200: TokenEnvelope, 409: None}, tags=["tokens"])),
]
