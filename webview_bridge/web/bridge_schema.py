"""GET /bridge-events.schema.json: the JSON Schema (draft 2020-12) of every message the pages'
bridge script posts to the native host (PROTOCOL §6), so an app can check or generate its types
from the server it talks to rather than from a copy."""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Shipped inside the package (and so the wheel); read once, it never changes while serving.
SCHEMA = files("webview_bridge").joinpath("bridge_events.schema.json").read_bytes()


async def bridge_events_schema(request: Request) -> Response:
    return Response(SCHEMA, media_type="application/schema+json", headers={"Cache-Control": "public, max-age=3600"})


routes = [
    Route("/bridge-events.schema.json", bridge_events_schema, methods=["GET"], name="bridge_events_schema"),
]
