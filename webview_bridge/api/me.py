"""GET /me: the calling app as the server knows it — a way for a backend to check its credentials."""

from __future__ import annotations


from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.wire import AppEnvelope, AppView
from webview_bridge.api.auth import require_app
from webview_bridge.api.operations import ApiRoute, Operation, json_response
from webview_bridge.runtime import Runtime


async def me(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, None)
    app = caller.app
    view = AppView(
        id=app.id, name=app.name, roles=sorted(app.roles), scope=sorted(caller.scope),
        redirect_urls=list(app.redirect_urls), bank_id=app.bank_id, created_at=app.created_at,
    )
    return json_response(AppEnvelope(app=view))


routes = [
    ApiRoute("/me", me, methods=["GET"], name="me", operation=Operation(
        "The calling app", auth="app", responses={200: AppEnvelope}, tags=["apps"])),
]
