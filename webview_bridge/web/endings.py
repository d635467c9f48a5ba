"""Leaving the flow without a token: the customer cancels, or gives up on an unavailable bank."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.routing import PageRoute
from webview_bridge.runtime import Runtime
from webview_bridge.web.flow import open_flow, page_endpoint
from webview_bridge.web.session import check_csrf


@page_endpoint
async def leave(request: Request, runtime: Runtime) -> Response:
    """POST …/exit: end the request with `error` and go back to the TPP."""
    flow = await open_flow(request, runtime, request.path_params["request_id"], issue=False)
    form = await request.form()
    await check_csrf(request, runtime, form.get("csrf"), flow.token_request.id, flow.page.session_known)
    outcome = await flow.runtime.consent.end_without_token(flow.token_request, flow.visitor().session,
                                                           str(form.get("error", "access_denied")))
    return await flow.respond(outcome)


routes = [PageRoute("/app/request-token/{request_id}/exit", leave, methods=["POST"], name="exit")]
