"""Paths built from route names: the looked-up index answers exactly as Starlette's own search
of the route table would, for every named route of the real application."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.routing import Mount, NoMatchFound, Route, Router

from webview_bridge.routing import route_path


def _names(routes, prefix: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for route in routes:
        if isinstance(route, Mount):
            inner = prefix + f"{route.name}:" if route.name else prefix
            if route.name:
                found.append((prefix + route.name, ["path"]))
            found += _names(route.routes or [], inner)
        elif getattr(route, "name", None):
            found.append((prefix + route.name, list(route.param_convertors)))
    return found


def _request(router: Router) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "router": router})


@pytest.mark.databases("sqlite")
def test_every_named_route_builds_the_path_starlette_builds(app) -> None:
    request = _request(app.router)
    names = _names(app.router.routes)
    assert len(names) > 60  # the pages, the API, the sandbox bank's pages and API
    for name, params in names:
        values = {p: f"x{i}" for i, p in enumerate(params)}
        assert route_path(request, name, **values) == app.router.url_path_for(name, **values), name


def test_the_first_route_with_a_name_wins_and_mounts_prefix_their_routes() -> None:
    async def nothing(request):  # pragma: no cover - never called
        raise AssertionError

    router = Router(routes=[
        Mount("/app", routes=[Route("/page/{id}", nothing, name="page")]),
        Route("/page/{id}", nothing, name="page"),  # shadowed, as in Starlette
        Mount("/static", routes=[], name="static"),
        Route("/api/{id}", nothing, name="api"),
    ])
    request = _request(router)
    assert route_path(request, "page", id="p1") == "/app/page/p1"
    assert route_path(request, "api", id="a1") == "/api/a1"
    assert route_path(request, "static", path="/a.css") == "/static/a.css"
    with pytest.raises(NoMatchFound):
        route_path(request, "nowhere")
    with pytest.raises(NoMatchFound):  # a known name with the wrong parameters still fails as in Starlette
        route_path(request, "api", other="x")
