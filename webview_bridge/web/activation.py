"""The activation screen: a customer the bank never preloaded accepts (or declines) the service
before anything else (independent activation, PROTOCOL §3)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.routing import PageRoute
from webview_bridge.runtime import Runtime
from webview_bridge.store import apps as app_store
from webview_bridge.store import customers as customer_store
from webview_bridge.web.flow import FlowPage, open_flow, page_endpoint
from webview_bridge.web.session import check_csrf


def needs_activation(flow: FlowPage) -> bool:
    token = flow.page.client_token
    return token is not None and token.customer_id is None


@page_endpoint
async def show(request: Request, runtime: Runtime) -> Response:
    flow = await open_flow(request, runtime, request.path_params["request_id"])
    if not needs_activation(flow):
        return flow.redirect(flow.url())
    bank_app = await runtime.db.run(app_store.get, runtime.db, flow.page.client_token.bank_app_id)  # type: ignore[union-attr]
    bank = runtime.banks.get(bank_app.bank_id) if bank_app and bank_app.bank_id else None
    return activation_page(flow, bank_app, bank)


def activation_page(flow: FlowPage, bank_app: Any, bank: Any) -> Response:
    return flow.render("activation.html", {"bank_app": bank_app, "bank": bank, "csrf": flow.csrf(), "event": "OPEN"})


@page_endpoint
async def decide(request: Request, runtime: Runtime) -> Response:
    flow = await open_flow(request, runtime, request.path_params["request_id"], issue=False)
    form = await request.form()
    await check_csrf(request, runtime, form.get("csrf"), flow.token_request.id, flow.page.session_known)
    if form.get("decision") == "accept" and needs_activation(flow):
        token = flow.page.client_token
        bank_app = await runtime.db.run(app_store.get, runtime.db, token.bank_app_id)  # type: ignore[union-attr]
        await runtime.db.run(customer_store.activate_once, runtime.db, runtime.clock, runtime.keyring, bank_app, token.id)  # type: ignore[union-attr]
        return flow.redirect(flow.url())
    if form.get("decision") == "decline":
        return await flow.respond(await runtime.consent.end_without_token(
            flow.token_request, flow.visitor().session, "access_denied"))
    return flow.redirect(flow.url())


routes = [
    PageRoute("/app/request-token/{request_id}/activation", show, methods=["GET"], name="activation"),
    PageRoute("/app/request-token/{request_id}/activation", decide, methods=["POST"], name="decide_activation"),
]
