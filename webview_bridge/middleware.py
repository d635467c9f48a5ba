"""ASGI middleware: trace ids and the access log, and the request body cap."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webview_bridge.errors import ApiError
from webview_bridge.logs import ACCESS

_VALID_TRACE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _route_template(scope: Scope) -> str:
    """The route's pattern (/token-requests/{id}), never the raw path, whose ids may be private."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return scope.get("root_path", "") + path if path else "(unmatched)"


class TraceMiddleware:
    """Every response carries X-Trace-Id; every request leaves one JSON log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-trace-id"), "")
        trace_id = offered if _VALID_TRACE_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["trace_id"] = trace_id
        started = time.perf_counter()
        status = 500
        logged = False

        def log_once() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            fields: dict[str, Any] = {
                "trace_id": trace_id,
                "method": scope["method"],
                "route": _route_template(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            ACCESS.log(logging.INFO, "request", extra={"fields": fields})

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Trace-Id"] = trace_id
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                log_once()  # before the last byte leaves, so the line exists once the client has its answer
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            log_once()


class BodyLimitMiddleware:
    """Refuse bodies over the cap (413) before reading them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = ApiError(413, "body_too_large", f"the body is larger than {self.max_bytes} bytes")
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await too_large.response()(scope, receive, send)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large
            return message

        await self.app(scope, capped_receive, send)


class SecurityHeadersMiddleware:
    """Headers every response carries; pages add their CSP (with its nonce) when they render."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
            await send(message)

        await self.app(scope, receive, send_with_headers)
