"""The bank's side of the flow (PROTOCOL §6): the page that opens an external bank's app, and the
return from any bank to /app/bank-callback, in whatever browser it lands."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.banks.directory import Bank
from webview_bridge.domain.consent import still_waiting
from webview_bridge.domain.errors import Refused
from webview_bridge.routing import PageRoute
from webview_bridge.runtime import BANK_CALLBACK, Runtime
from webview_bridge.web.flow import FlowPage, open_flow, page_endpoint, unknown_request
from webview_bridge.rendering import logo_css
from webview_bridge.web.session import renew_session


@page_endpoint
async def external(request: Request, runtime: Runtime) -> Response:
    """GET …/bank-auth: for banks whose login opens outside the WebView (app-to-app)."""
    flow = await open_flow(request, runtime, request.path_params["request_id"])
    try:
        bank, url = flow.runtime.consent.at_bank(flow.state, flow.visitor())
    except Refused as refusal:
        return flow.refused(refusal)
    return external_page(flow, bank, url, waiting=still_waiting(flow.state, flow.runtime.clock.now()))


# While the customer is away in the bank's app, the page looks again this often (no JavaScript
# needed): once the flow has finished elsewhere, it shows how it ended.
REFRESH_SECONDS = 10


def external_page(flow: FlowPage, bank: Bank, url: str, waiting: bool = False) -> Response:
    """"Continue in your bank's app"; after a while, "still waiting" with another bank or a way out,
    told to the host as ERROR (code still_waiting_for_bank) so an app can act on it."""
    event, data = ("ERROR", {"code": "still_waiting_for_bank", "url": url}) if waiting else \
        ("OPEN_EXTERNAL", {"url": url, "bank_id": bank.id})
    return flow.render("bank_external.html", {
        "bank": bank, "bank_url": url, "logo_css": logo_css([bank]), "event": event, "event_data": data,
        "waiting": waiting, "refresh_seconds": REFRESH_SECONDS if flow.preview_scheme is None else None,
        "csrf": flow.csrf(), "can_choose_again": flow.token_request.bank_id is None,
    })


@page_endpoint
async def resume(request: Request, runtime: Runtime) -> Response:
    """GET /app/resume/{request_id}: an app killed mid-flow reopens it where it stood (same session
    rules: only the session that chose a bank goes on past the selection)."""
    flow = await open_flow(request, runtime, request.path_params["request_id"])
    state = flow.state
    if state is None or state.bank_id is None or state.chooser != flow.visitor().session:
        return flow.redirect(flow.url())
    if state.bank_nonce is not None and state.bank_url is not None:
        bank = flow.runtime.banks.get(state.bank_id)
        return flow.redirect(flow.url("bank_auth") if bank is not None and bank.requires_external_auth else state.bank_url)
    return flow.redirect(flow.url("consent"))


@page_endpoint
async def callback(request: Request, runtime: Runtime) -> Response:
    """GET /app/bank-callback: the bank sends the customer back here, in whatever browser."""
    returned = runtime.read_bank_return(request.query_params.get("state", ""))
    if returned is None:
        return unknown_request(request, runtime)
    request_id, nonce = returned
    flow = await open_flow(request, runtime, request_id, pending=False, issue=False)
    # Accepted as ours: a new session from here on, so nothing personal is shown to the old one.
    await renew_session(request, runtime)
    try:
        outcome = await runtime.consent.bank_returned(flow.token_request, flow.state, nonce, flow.visitor())
    except Refused as refusal:
        return flow.refused(refusal)
    return await flow.respond(outcome)


routes = [
    PageRoute("/app/request-token/{request_id}/bank-auth", external, methods=["GET"], name="bank_auth"),
    PageRoute("/app/resume/{request_id}", resume, methods=["GET"], name="resume"),
    PageRoute(BANK_CALLBACK, callback, methods=["GET"], name="bank_callback"),
]
