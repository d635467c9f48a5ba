"""GET /: what this server is, for a person who opens it in a browser."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.rendering import render


async def home(request: Request) -> Response:
    return render(request, "home.html", {"demo": request.app.state.runtime.settings.demo})


routes = [Route("/", home, methods=["GET"])]
