"""/.well-known/ association files (PROTOCOL §6): they let the bank's return to
/app/bank-callback open the host app (universal links, Android App Links) instead of a browser."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.errors import not_found
from webview_bridge.routing import PageRoute
from webview_bridge.runtime import Runtime


def _serve(setting: str):
    async def endpoint(request: Request, runtime: Runtime) -> Response:
        document = getattr(runtime.settings, setting)
        if document is None:
            raise not_found("association file")
        return Response(document, media_type="application/json", headers={"Cache-Control": "public, max-age=3600"})

    endpoint.__name__ = setting
    return endpoint


routes = [
    PageRoute("/.well-known/apple-app-site-association", _serve("apple_app_site_association"), methods=["GET"],
              name="apple_app_site_association"),
    PageRoute("/.well-known/assetlinks.json", _serve("assetlinks"), methods=["GET"], name="assetlinks"),
]
