"""Routes by name, and what their handlers are given.

Every route is named, and paths are built from those names, never by hand. They are paths, not
URLs: Starlette's url_for takes the scheme and host from the request's Host header, which this
server does not trust; an absolute URL starts with the configured public URL instead.

Every handler takes `(request, runtime)`: the one look-up of the process's Runtime is here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router

from webview_bridge.domain.errors import Invalid

if TYPE_CHECKING:  # the TPP helper renders with path_for and must not import the server
    from webview_bridge.runtime import Runtime

Handler = Callable[[Request, "Runtime"], Awaitable[Response]]


def _answering(routes: list[BaseRoute]) -> dict[str, BaseRoute]:
    """Each route name, and the top-level route (the route itself or the Mount holding it) that
    builds its path: the first in table order, as Starlette's own search would find it."""
    found: dict[str, BaseRoute] = {}
    for route in routes:
        names: list[str] = []
        if isinstance(route, Mount):
            inner = list(_answering(route.routes))
            names = [route.name, *(f"{route.name}:{n}" for n in inner)] if route.name else inner
        elif getattr(route, "name", None):
            names = [route.name]  # type: ignore[attr-defined]
        for name in names:
            found.setdefault(name, route)
    return found


def route_path(request: Request, name: str, **params: Any) -> str:
    """A named route's path in the application's own route table.

    Starlette asks every route in turn, each refusing with an exception; the route that answers a
    name is looked up once per table instead (pages build a dozen paths per answer)."""
    router: Router = request.scope["router"]
    index: dict[str, BaseRoute] | None = getattr(router, "wvb_route_index", None)
    if index is None:
        index = _answering(router.routes)
        router.wvb_route_index = index  # type: ignore[attr-defined]
    return str(index.get(name, router).url_path_for(name, **params))


def path_for(request: Request, name: str, **params: Any) -> str:
    """A named route's path as a browser of this server asks for it (under the root path a proxy strips)."""
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    return root + route_path(request, name, **params)


def public_url_for(request: Request, base_url: str, name: str, **params: Any) -> str:
    """A named route's absolute URL: the public URL already names any prefix a proxy adds."""
    return base_url + route_path(request, name, **params)


def refuse_nul_in_target(request: Request) -> None:
    """No id, name or value of this protocol holds a NUL character, and PostgreSQL can neither store
    nor compare one: a path or query carrying one is bad input, refused before any handler looks."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
        raise Invalid("invalid_request", "the path or query contains a NUL character (%00)")


def with_runtime(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Starlette's endpoint for a handler that takes the Runtime too."""

    async def endpoint(request: Request) -> Response:
        refuse_nul_in_target(request)
        return await handler(request, request.app.state.runtime)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


class PageRoute(Route):
    """A route whose handler takes `(request, runtime)`."""

    def __init__(self, path: str, handler: Handler, *, methods: list[str], name: str) -> None:
        super().__init__(path, with_runtime(handler), methods=methods, name=name)
