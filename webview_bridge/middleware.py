"""The edge of every request, in one ASGI layer: the trace id, the access log line, the headers
every response carries, and the request body cap."""

from __future__ import annotations

import random
import re
import time
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webview_bridge.errors import ApiError
from webview_bridge.logs import ACCESS

_VALID_TRACE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Every response; pages replace the CSP with their own (with its nonce) when they render.
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)


def _route_template(scope: Scope) -> str:
    """The route's pattern (/token-requests/{id}), never the raw path, whose ids may be private."""
    route = scope.get("route")
    if isinstance(route, Mount):  # matched the prefix, nothing under it (or static files)
        return scope.get("root_path", "") + "/{path}"
    path = getattr(route, "path", None)
    return scope.get("root_path", "") + path if path else "(unmatched)"


def _trace_id(scope: Scope) -> str:
    """The caller's X-Trace-Id when it is sane, else a new one (unique, not secret: no syscall for it)."""
    for name, value in scope["headers"]:
        if name == b"x-trace-id":
            offered = value.decode("latin-1")
            if _VALID_TRACE_ID.match(offered):
                return offered
            break
    return f"{random.getrandbits(128):032x}"


class EdgeMiddleware:
    """Every response carries X-Trace-Id and the security headers; every request leaves one JSON
    log line; a body over the cap is refused (413) before it is read whole."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = _trace_id(scope)
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
            ACCESS.info("request", extra={"fields": fields})

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-trace-id"]
                present = {k.lower() for k, _ in headers}
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                headers.append((b"x-trace-id", trace_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                log_once()  # before the last byte leaves, so the line exists once the client has its answer
            await send(message)

        try:
            too_large = self._too_large(scope)
            if too_large is not None:
                await too_large.response()(scope, receive, edge_send)
            else:
                await self.app(scope, self._capped(receive), edge_send)
        finally:
            log_once()

    def _too_large(self, scope: Scope) -> ApiError | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    return self._body_too_large()
                break
        return None

    def _body_too_large(self) -> ApiError:
        return ApiError(413, "body_too_large", f"the body is larger than {self.max_body_bytes} bytes")

    def _capped(self, receive: Receive) -> Receive:
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._body_too_large()
            return message

        return capped_receive
