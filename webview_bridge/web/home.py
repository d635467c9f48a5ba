"""GET /: what this server is, for a person who opens it in a browser."""

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.rendering import render
from webview_bridge.routing import PageRoute
from webview_bridge.runtime import Runtime


async def home(request: Request, runtime: Runtime) -> Response:
    return render(runtime.templates, request, "home.html", {"demo": runtime.settings.demo})


routes = [PageRoute("/", home, methods=["GET"], name="home")]
