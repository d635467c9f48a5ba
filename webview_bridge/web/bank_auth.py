"""Sending the customer to their bank and taking them back (PROTOCOL §6).

The state handed to the bank is signed and names the request and a one-time nonce kept on the
server, so the bank's return works once, in whichever browser it lands — the WebView, the
system browser after an app-to-app login — and the flow goes on there from server state.
"""

from __future__ import annotations

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from webview_bridge.banks.connector import BankUnavailable, LoginFailed
from webview_bridge.banks.directory import Bank, get_bank
from webview_bridge.domain.customers import customer_id_for
from webview_bridge.domain.token_requests import LIFETIME
from webview_bridge.store import customers as customer_store
from webview_bridge.store import flows
from webview_bridge.web.flow import Flow, open_flow, page_endpoint, unknown_request
from webview_bridge.web.handoff import session_customer
from webview_bridge.web.session import ensure_session, remember_session, session_hash

BANK_STATE = "bank-state"


def _return_url(flow: Flow) -> str:
    return f"{flow.runtime.settings.base_url}/app/bank-callback"


def _bank_url(flow: Flow, bank: Bank, nonce: str) -> str:
    state = flow.runtime.keyring.serializer(BANK_STATE).dumps({"rq": flow.token_request.id, "n": nonce})
    return flow.runtime.connector.authorization_url(bank, state, _return_url(flow))


async def start_bank_auth(flow: Flow, bank: Bank) -> Response:
    if bank.status != "available":
        return await bank_unavailable(flow, bank)
    runtime = flow.runtime
    nonce = await runtime.db.run(flows.choose_bank, runtime.db, runtime.clock, flow.token_request.id, bank.id)
    customer = await session_customer(flow.request)
    if customer is not None:
        token, bank_app = customer
        if token.may_skip_bank_login(runtime.clock.now(), bank.id, bank_app.bank_id) and \
                await runtime.db.run(customer_store.consume_strong_auth, runtime.db, runtime.clock, token.id):
            # The bank's own app authenticated this customer strongly moments ago: no second login.
            return await _authenticated(flow, bank, nonce, token.customer_ref or "", token.customer_id)
    if bank.requires_external_auth:
        target = f"/app/request-token/{flow.token_request.id}/bank-auth"
        return remember_session(flow.request, RedirectResponse(target, status_code=302))
    return remember_session(flow.request, RedirectResponse(_bank_url(flow, bank, nonce), status_code=302))


async def bank_unavailable(flow: Flow, bank: Bank) -> Response:
    return flow.page("bank_unavailable.html", {
        "bank": bank, "csrf": flow.csrf(), "can_choose_again": not flow.token_request.bank_id,
        "event": "ERROR", "event_data": {"code": "bank_unavailable"},
    }, status=503)


@page_endpoint
async def external(request: Request) -> Response:
    """GET …/bank-auth: for banks whose login opens outside the WebView (app-to-app)."""
    flow = await open_flow(request, request.path_params["request_id"])
    state = flow.state
    bank = get_bank(state.bank_id) if state and state.bank_id else None
    if state is None or bank is None or state.bank_nonce is None:
        return RedirectResponse(f"/app/request-token/{flow.token_request.id}", status_code=302)
    url = _bank_url(flow, bank, state.bank_nonce)
    return flow.page("bank_external.html", {"bank": bank, "bank_url": url, "event": "OPEN_EXTERNAL",
                                            "event_data": {"url": url, "bank_id": bank.id}})


@page_endpoint
async def callback(request: Request) -> Response:
    """GET /app/bank-callback: the bank sends the customer back here, in whatever browser."""
    runtime = request.app.state.runtime
    try:
        signed = runtime.keyring.serializer(BANK_STATE).loads(
            request.query_params.get("state", ""), max_age=int(LIFETIME.total_seconds())
        )
        request_id, nonce = signed["rq"], signed["n"]
    except (BadSignature, KeyError, TypeError):
        return unknown_request(request)
    flow = await open_flow(request, request_id)
    state = flow.state
    bank = get_bank(state.bank_id) if state and state.bank_id else None
    if state is None or bank is None or state.bank_nonce != nonce:
        return flow.page("ending.html", {"kind": "stale", "back_url": None, "event": "ERROR"}, status=409)
    try:
        customer_ref = await runtime.ask_bank(
            runtime.connector.complete_authorization, bank, request.query_params["state"], dict(request.query_params)
        )
    except (BankUnavailable, LoginFailed):
        await runtime.db.run(flows.spend_nonce, runtime.db, runtime.clock, request_id, nonce)
        return await bank_unavailable(flow, bank)
    return await _authenticated(flow, bank, nonce, customer_ref, None)


async def _authenticated(flow: Flow, bank: Bank, nonce: str, customer_ref: str, customer_id: str | None) -> Response:
    """The bank vouched for the customer in this browser: record it and go to consent."""
    request, runtime = flow.request, flow.runtime
    session = ensure_session(request)
    request_id = flow.token_request.id
    done = await runtime.db.run(
        lambda: flows.complete_bank_auth(
            runtime.db, runtime.clock, request_id, nonce, customer_ref=customer_ref,
            customer_id=customer_id or customer_id_for(runtime.keyring.hash, bank.id, customer_ref),
            session_hash=session_hash(request, session),
        )
    )
    if not done:
        return flow.page("ending.html", {"kind": "stale", "back_url": None, "event": "ERROR"}, status=409)
    return remember_session(request, RedirectResponse(f"/app/request-token/{request_id}/consent", status_code=302))


routes = [
    Route("/app/request-token/{request_id}/bank-auth", external, methods=["GET"]),
    Route("/app/bank-callback", callback, methods=["GET"]),
]
