"""/.well-known/ association files (PROTOCOL §6): they let the bank's return to
/app/bank-callback open the host app (universal links, Android App Links) instead of a browser."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.errors import not_found


def _serve(setting: str):
    async def endpoint(request: Request) -> Response:
        document = getattr(request.app.state.runtime.settings, setting)
        if document is None:
            raise not_found("association file")
        return Response(document, media_type="application/json", headers={"Cache-Control": "public, max-age=3600"})

    endpoint.__name__ = setting
    return endpoint


routes = [
    Route("/.well-known/apple-app-site-association", _serve("apple_app_site_association"), methods=["GET"]),
    Route("/.well-known/assetlinks.json", _serve("assetlinks"), methods=["GET"]),
]
