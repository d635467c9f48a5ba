"""The consent screen: who asks, for what, from which accounts, until when; Allow or Deny."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.banks.connector import Account, BankUnavailable
from webview_bridge.banks.directory import Bank, get_bank
from webview_bridge.i18n import N_
from webview_bridge.store import flows
from webview_bridge.store import token_requests as request_store
from webview_bridge.web.bank_auth import bank_unavailable
from webview_bridge.web.flow import Flow, PageEnd, final_state, open_flow, page_endpoint
from webview_bridge.web.session import check_csrf, current_session, session_hash

# Each resource in plain words (PROTOCOL §6); the order is the order shown.
RESOURCE_WORDS = {
    "ACCOUNTS": N_("See your account names, types and numbers"),
    "BALANCES": N_("See your balances"),
    "TRANSACTIONS": N_("See your transactions, going back up to 13 months"),
    "STANDING_ORDERS": N_("See your standing orders"),
    "TRANSFER_DESTINATIONS": N_("See the details others use to pay into your accounts"),
    "FUNDS_CONFIRMATIONS": N_("Check whether you have enough money for a payment"),
}


async def _authenticated(flow: Flow) -> tuple[flows.Flow, Bank, list[Account]]:
    """The bank login this browser completed for this request, and the customer's accounts there."""
    request = flow.request
    state = flow.state
    session = current_session(request)
    if state is None or not state.authenticated_for(session_hash(request, session) if session else None):
        raise PageEnd(flow.page("ending.html", {"kind": "login_first", "back_url": None, "event": "ERROR",
                                                "restart_url": f"/app/request-token/{flow.token_request.id}"}, status=403))
    bank = get_bank(state.bank_id or "")
    assert bank is not None and state.customer_ref is not None
    try:
        accounts = await flow.runtime.ask_bank(flow.runtime.connector.accounts, bank, state.customer_ref)
    except BankUnavailable:
        raise PageEnd(await bank_unavailable(flow, bank))
    return state, bank, accounts


def _consent_page(flow: Flow, bank: Bank, state: flows.Flow, accounts: list[Account],
                  chosen: set[str] | None = None, problem: str | None = None) -> Response:
    now = flow.runtime.clock.now()
    until = now + timedelta(days=flow.token_request.details["token_expiration_days"])
    return flow.page("consent.html", {
        "bank": bank,
        "holder": flow.runtime.connector.holder_name(bank, state.customer_ref or ""),
        "accounts": accounts,
        "chosen": chosen if chosen is not None else {a.id for a in accounts},
        "resources": [RESOURCE_WORDS[r] for r in RESOURCE_WORDS if r in flow.token_request.resources],
        "until": until,
        "description": flow.token_request.description,
        "csrf": flow.csrf(),
        "problem": problem,
    }, status=400 if problem else 200)


@page_endpoint
async def show(request: Request) -> Response:
    flow = await open_flow(request, request.path_params["request_id"])
    state, bank, accounts = await _authenticated(flow)
    return _consent_page(flow, bank, state, accounts)


@page_endpoint
async def decide(request: Request) -> Response:
    flow = await open_flow(request, request.path_params["request_id"])
    form = await request.form()
    await check_csrf(request, form.get("csrf"), flow.token_request.id)
    state, bank, accounts = await _authenticated(flow)
    runtime = flow.runtime
    if form.get("decision") == "deny":
        if not await runtime.db.run(request_store.reject, runtime.db, runtime.clock, flow.token_request.id, "access_denied"):
            return await final_state(flow)
        return await flow.back_to_tpp(error="access_denied")
    if form.get("decision") != "allow":
        return _consent_page(flow, bank, state, accounts, problem=N_("Choose Allow or Deny."))
    known = {a.id for a in accounts}
    chosen = [str(v) for v in form.getlist("account_id")]
    if not chosen or not set(chosen) <= known:
        return _consent_page(flow, bank, state, accounts, chosen=set(chosen) & known,
                             problem=N_("Choose at least one account to share."))
    token = await runtime.db.run(
        lambda: request_store.approve(
            runtime.db, runtime.clock, flow.token_request.id, customer_id=state.customer_id or "",
            customer_ref=state.customer_ref or "", bank_id=bank.id, account_ids=chosen,
        )
    )
    if token is None:
        return await final_state(flow)
    return await flow.back_to_tpp(token_id=token.id)


routes = [
    Route("/app/request-token/{request_id}/consent", show, methods=["GET"]),
    Route("/app/request-token/{request_id}/consent", decide, methods=["POST"]),
]
