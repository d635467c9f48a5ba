"""create_app(settings) -> Starlette: the route table is the map of the product."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, GZipResponder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from webview_bridge.api import (
    accounts, banks, customers, customizations, grants, health, me, token_requests, tokens, webhooks,
)
from webview_bridge.clock import Clock
from webview_bridge.domain.errors import Refused
from webview_bridge.errors import ApiError, from_refusal
from webview_bridge.oauth import server as oauth
from webview_bridge.middleware import EdgeMiddleware
from webview_bridge.resources import STATIC_DIR
from webview_bridge.runtime import Runtime
from webview_bridge.settings import Settings
from webview_bridge.web import activation, bank_auth, bank_select, bridge_schema, consent, endings, home, theming, well_known
from webview_bridge.web import grants as grants_page
from webview_bridge.sandbox_bank import SandboxConfig, sandbox_bank_app
from webview_bridge.store import bank_statuses
from webview_bridge.worker import Worker
from webview_bridge.rendering import is_page_path, render


# Each error handler is given the server's templates (partial): the request may come from a mounted app.
def _error_page(templates: Jinja2Templates, request: Request, error: ApiError) -> Response:
    response = render(templates, request, "error.html", {"error": error}, status=error.status)
    response.headers.update(error.headers)
    return response


async def _on_api_error(templates: Jinja2Templates, request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_page(templates, request, exc) if is_page_path(request.url.path) else exc.response()


async def _on_refusal(templates: Jinja2Templates, request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return await _on_api_error(templates, request, from_refusal(exc))


async def _on_http_exception(templates: Jinja2Templates, request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: ("not_found", "no such endpoint"), 405: ("method_not_allowed", "method not allowed here")}
    code, message = codes.get(exc.status_code, ("http_error", str(exc.detail)))
    return await _on_api_error(templates, request, ApiError(exc.status_code, code, message, headers=exc.headers))


async def _on_crash(templates: Jinja2Templates, request: Request, exc: Exception) -> Response:
    from webview_bridge import logs  # one JSON line, without database values; uvicorn then stays quiet

    logs.crash(exc, trace_id=request.state.trace_id)
    error = ApiError(500, "server_error", "something went wrong on our side; quote the X-Trace-Id")
    response = await _on_api_error(templates, request, error)
    response.headers["X-Trace-Id"] = request.state.trace_id
    return response


class _SmallWindowGZip(GZipResponder):
    """Starlette's gzip, with a 16 KB window and zlib's memory level 7 instead of 32 KB and 8: an
    answer of 5-30 KB compresses to the same bytes within a handful, and a page costs a third less
    CPU to compress (most of the default's cost on such a page is setting up its larger tables)."""

    @property
    def compressor(self) -> Any:
        if self._compressor is None:
            self._compressor = zlib.compressobj(self.compresslevel, zlib.DEFLATED, 16 + 14, 7)
        return self._compressor


class _CompressAllButOAuth:
    """Starlette's gzip layer for every answer but /oauth/*'s: those are a few hundred bytes of
    JSON, always under the size compression starts at, so the layer would only cost them time."""

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.removeprefix(scope.get("root_path", "")).startswith("/oauth/"):
            await self.app(scope, receive, send)
        elif "gzip" in Headers(scope=scope).get("accept-encoding", ""):
            gzip = self.gzip
            await _SmallWindowGZip(self.app, gzip.minimum_size, gzip.compresslevel,
                                   thread_minimum_size=gzip.thread_minimum_size,
                                   exclude_content_types=gzip.exclude_content_types)(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)  # Starlette's identity responder (and its Vary header)


def _under(prefix: str, *groups: list[Route]) -> Mount:
    """Routes declared with their full paths, behind one Mount for their shared prefix: Starlette
    tries routes in turn, so a request elsewhere passes them with one check instead of one each."""
    routes = [route for group in groups for route in group]
    strays = [route.path for route in routes if not route.path.startswith(prefix + "/")]
    if strays:
        raise ValueError(f"{strays} are not under {prefix}")
    return Mount(prefix, routes=[
        Route(route.path.removeprefix(prefix), route.endpoint, methods=route.methods, name=route.name)
        for route in routes
    ])


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    runtime = Runtime.open(settings, clock)

    worker = Worker(runtime)
    runtime.wake_worker = worker.wake
    runtime.oauth_server = oauth.BridgeAuthorizationServer(runtime)
    templates = runtime.templates

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.db.run(bank_statuses.record, runtime.db, runtime.clock, runtime.directory.banks)
        if settings.worker:
            worker.start()
        try:
            yield
        finally:
            await worker.stop()
            await runtime.aclose()
            runtime.close()

    app = Starlette(
        routes=[
            # The WebView's screens and the sandbox bank, most of a flow's requests, are matched first.
            _under("/app", bank_select.routes, activation.routes, bank_auth.routes, consent.routes, endings.routes,
                   theming.routes, grants_page.routes),
            Mount("/sandbox-bank", app=sandbox_bank_app(SandboxConfig(
                db=runtime.db, clock=runtime.clock, public_url=f"{settings.base_url}/sandbox-bank",
                bank=runtime.directory.get, secret=runtime.keyring.derive("sandbox-bank/pages")[0],
                tpp_name=settings.operator_name, trusted_key=runtime.sandbox_trusted_key,
                validate=settings.sandbox_validate)), name="sandbox_bank"),
            *home.routes,
            *health.routes,
            *oauth.routes,
            *me.routes,
            *banks.routes,
            *token_requests.routes,
            *tokens.routes,
            *accounts.routes,
            *customers.routes,
            *grants.routes,
            *customizations.routes,
            *webhooks.routes,
            *well_known.routes,
            *bridge_schema.routes,
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes),
            # Level 1 (nginx's default) costs half of level 6's CPU for 0.6 KB more on the selection
            # screen; under one TCP segment (1,400 bytes) compressing saves no round trip, so it is not done.
            Middleware(_CompressAllButOAuth, minimum_size=1400, compresslevel=1),
        ],
        exception_handlers={ApiError: partial(_on_api_error, templates), Refused: partial(_on_refusal, templates),
                            HTTPException: partial(_on_http_exception, templates), Exception: partial(_on_crash, templates)},
        lifespan=lifespan,
    )
    if settings.demo:
        from webview_bridge.demo import demo_app

        app.router.routes.append(Mount("/demo", app=demo_app(runtime), name="demo"))
    app.state.runtime = runtime
    app.state.worker = worker
    return app
