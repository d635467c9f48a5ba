"""The activation screen: a customer the bank never preloaded accepts (or declines) the service
before anything else (independent activation, PROTOCOL §3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from webview_bridge.banks.directory import get_bank
from webview_bridge.store import customers as customer_store
from webview_bridge.store import token_requests as request_store
from webview_bridge.web.flow import final_state, open_flow, page_endpoint
from webview_bridge.web.handoff import session_customer
from webview_bridge.web.session import check_csrf


def needs_activation(found) -> bool:
    return found is not None and found[0].customer_id is None


@page_endpoint
async def show(request: Request) -> Response:
    flow = await open_flow(request, request.path_params["request_id"])
    found = await session_customer(request)
    if not needs_activation(found):
        return RedirectResponse(f"/app/request-token/{flow.token_request.id}", status_code=302)
    _, bank_app = found
    bank = get_bank(bank_app.bank_id) if bank_app.bank_id else None
    return flow.page("activation.html", {"bank_app": bank_app, "bank": bank, "csrf": flow.csrf(), "event": "OPEN"})


@page_endpoint
async def decide(request: Request) -> Response:
    flow = await open_flow(request, request.path_params["request_id"])
    form = await request.form()
    await check_csrf(request, form.get("csrf"), flow.token_request.id)
    found = await session_customer(request)
    runtime = flow.runtime
    if form.get("decision") == "accept" and needs_activation(found):
        token, bank_app = found
        await runtime.db.run(customer_store.activate_once, runtime.db, runtime.clock, runtime.keyring, bank_app, token.id)
        return RedirectResponse(f"/app/request-token/{flow.token_request.id}", status_code=302)
    if form.get("decision") == "decline":
        if not await runtime.db.run(request_store.reject, runtime.db, runtime.clock, flow.token_request.id, "access_denied"):
            return await final_state(flow)
        return await flow.back_to_tpp(error="access_denied")
    return RedirectResponse(f"/app/request-token/{flow.token_request.id}", status_code=302)


routes = [
    Route("/app/request-token/{request_id}/activation", show, methods=["GET"]),
    Route("/app/request-token/{request_id}/activation", decide, methods=["POST"]),
]
