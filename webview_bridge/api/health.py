"""GET /healthz and GET /openapi.json."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.api.operations import ApiRoute, Operation, ResponseModel
from webview_bridge.errors import ApiError
from webview_bridge.openapi import build_openapi
from webview_bridge.runtime import Runtime
from webview_bridge.store.database import DatabaseError


class Health(ResponseModel):
    status: str


async def healthz(request: Request, runtime: Runtime) -> JSONResponse:
    try:
        await runtime.db.run(runtime.db.ping)
    except DatabaseError:
        raise ApiError(503, "storage_unavailable", "storage does not answer")
    return JSONResponse({"status": "ok"})


async def openapi(request: Request, runtime: Runtime) -> JSONResponse:
    if runtime.openapi is None:
        runtime.openapi = build_openapi(request.app.routes)
    return JSONResponse(runtime.openapi)


routes = [
    ApiRoute("/healthz", healthz, methods=["GET"], name="healthz", operation=Operation("Storage answers", responses={200: Health})),
    ApiRoute("/openapi.json", openapi, methods=["GET"], name="openapi", operation=Operation("This document", responses={200: None})),
]
