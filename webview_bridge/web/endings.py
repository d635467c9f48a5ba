"""Leaving the flow without a token: the customer cancels, or gives up on an unavailable bank."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.store import token_requests as request_store
from webview_bridge.web.flow import final_state, open_flow, page_endpoint
from webview_bridge.web.session import check_csrf

EXITS = {"access_denied", "bank_unavailable"}


@page_endpoint
async def leave(request: Request) -> Response:
    """POST …/exit: end the request with `error` and go back to the TPP."""
    flow = await open_flow(request, request.path_params["request_id"])
    form = await request.form()
    await check_csrf(request, form.get("csrf"), flow.token_request.id)
    error = str(form.get("error", "access_denied"))
    if error not in EXITS:
        error = "access_denied"
    runtime = flow.runtime
    if not await runtime.db.run(request_store.reject, runtime.db, runtime.clock, flow.token_request.id, error):
        return await final_state(flow)
    return await flow.back_to_tpp(error=error)


routes = [Route("/app/request-token/{request_id}/exit", leave, methods=["POST"])]
