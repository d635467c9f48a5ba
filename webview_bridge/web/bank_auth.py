"""The bank's side of the flow (PROTOCOL §6): the page that opens an external bank's app, and the
return from any bank to /app/bank-callback, in whatever browser it lands."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.banks.directory import Bank
from webview_bridge.domain.errors import Refused
from webview_bridge.runtime import BANK_CALLBACK
from webview_bridge.web.flow import FlowPage, open_flow, page_endpoint, unknown_request
from webview_bridge.web.templating import logo_css
from webview_bridge.web.session import renew_session


@page_endpoint
async def external(request: Request) -> Response:
    """GET …/bank-auth: for banks whose login opens outside the WebView (app-to-app)."""
    flow = await open_flow(request, request.path_params["request_id"])
    try:
        bank, url = flow.runtime.consent.at_bank(flow.state, flow.visitor())
    except Refused as refusal:
        return flow.refused(refusal)
    return external_page(flow, bank, url)


def external_page(flow: FlowPage, bank: Bank, url: str) -> Response:
    return flow.render("bank_external.html", {"bank": bank, "bank_url": url, "logo_css": logo_css([bank]),
                                              "event": "OPEN_EXTERNAL", "event_data": {"url": url, "bank_id": bank.id}})


@page_endpoint
async def callback(request: Request) -> Response:
    """GET /app/bank-callback: the bank sends the customer back here, in whatever browser."""
    runtime = request.app.state.runtime
    returned = runtime.read_bank_return(request.query_params.get("state", ""))
    if returned is None:
        return unknown_request(request)
    request_id, nonce = returned
    flow = await open_flow(request, request_id, pending=False, issue=False)
    # Accepted as ours: a new session from here on, so nothing personal is shown to the old one.
    await renew_session(request)
    try:
        outcome = await runtime.consent.bank_returned(flow.token_request, flow.state, nonce, flow.visitor())
    except Refused as refusal:
        return flow.refused(refusal)
    return await flow.respond(outcome)


routes = [
    Route("/app/request-token/{request_id}/bank-auth", external, methods=["GET"]),
    Route(BANK_CALLBACK, callback, methods=["GET"]),
]
