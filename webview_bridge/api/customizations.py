"""POST/GET/PUT/DELETE /customizations (PROTOCOL §8) and the theme preview link for UX teams."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webview_bridge.api.auth import require_app
from webview_bridge.wire import Timestamp
from webview_bridge.api.operations import ApiRoute, Operation, ResponseModel, StrictModel, json_response, parse_body
from webview_bridge.api.token_requests import NoCardNumber
from webview_bridge.domain.customizations import Customization, check_contrast, decode_logo, DARK, LIGHT
from webview_bridge.errors import not_found
from webview_bridge.store import customizations as store
from webview_bridge.routing import path_for, public_url_for
from webview_bridge.runtime import Runtime

HEX = r"^#[0-9A-Fa-f]{6}$"
PREVIEW_LIFETIME = timedelta(hours=1)


class Colors(StrictModel):
    primary: str | None = Field(None, pattern=HEX)
    on_primary: str | None = Field(None, pattern=HEX)
    background: str | None = Field(None, pattern=HEX)
    surface: str | None = Field(None, pattern=HEX)
    text: str | None = Field(None, pattern=HEX)
    muted: str | None = Field(None, pattern=HEX)
    error: str | None = Field(None, pattern=HEX)

    def given(self) -> dict[str, str]:
        return {k: v.lower() for k, v in self.model_dump().items() if v is not None}


class CustomizationIn(StrictModel):
    display_name: Annotated[str, NoCardNumber] = Field(min_length=1, max_length=100)
    logo: str | None = Field(None, max_length=140_000, description="data:image/png|jpeg|webp;base64,… at most 100 KB decoded")
    colors: Colors | None = None
    dark_colors: Colors | None = None
    corner_radius_px: int | None = Field(None, ge=0, le=24)
    consent_text: Annotated[str | None, NoCardNumber] = Field(None, max_length=1000, description="plain text; shown on the consent screen")

    @field_validator("display_name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("display_name must be printable text")
        return value

    @field_validator("consent_text")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        if value is not None and any(not ch.isprintable() and ch != "\n" for ch in value):
            raise ValueError("consent_text must be plain text")
        return value


class Palette(ResponseModel):
    primary: str
    on_primary: str
    background: str
    surface: str
    text: str
    muted: str
    error: str


class CustomizationView(ResponseModel):
    id: str
    display_name: str
    logo: str | None
    colors: Palette
    dark_colors: Palette
    corner_radius_px: int
    consent_text: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, found: Customization) -> CustomizationView:
        return cls(id=found.id, display_name=found.display_name, logo=found.logo, colors=Palette(**found.light_palette),
                   dark_colors=Palette(**found.dark_palette), corner_radius_px=found.corner_radius_px if found.corner_radius_px is not None else 12,
                   consent_text=found.consent_text, created_at=found.created_at, updated_at=found.updated_at)


class CustomizationEnvelope(ResponseModel):
    customization: CustomizationView


class PreviewLink(ResponseModel):
    url: str
    expires_at: Timestamp


def _checked(body: CustomizationIn) -> dict:
    colors = body.colors.given() if body.colors else {}
    dark = body.dark_colors.given() if body.dark_colors else {}
    check_contrast({**LIGHT, **colors}, "colors")
    check_contrast({**DARK, **dark}, "dark_colors")
    if body.logo is not None:
        decode_logo(body.logo)
    return {**body.model_dump(exclude={"colors", "dark_colors"}), "colors": colors, "dark_colors": dark}


async def create(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    values = _checked(await parse_body(request, CustomizationIn))
    made = await runtime.db.run(store.create, runtime.db, runtime.clock, caller.app.id, values)
    return json_response(CustomizationEnvelope(customization=CustomizationView.of(made)), status=201,
                         headers={"Location": path_for(request, "customization", customization_id=made.id)})


async def _own(request: Request, runtime: Runtime) -> tuple[str, Customization]:
    caller = await require_app(request, runtime, "tpp")
    found = await runtime.db.run(store.get, runtime.db, request.path_params["customization_id"], caller.app.id)
    if found is None:
        raise not_found("customization", "customization_not_found")
    return caller.app.id, found


async def read(request: Request, runtime: Runtime) -> JSONResponse:
    _, found = await _own(request, runtime)
    return json_response(CustomizationEnvelope(customization=CustomizationView.of(found)))


async def replace(request: Request, runtime: Runtime) -> JSONResponse:
    owner, found = await _own(request, runtime)
    values = _checked(await parse_body(request, CustomizationIn))
    changed = await runtime.db.run(store.replace, runtime.db, runtime.clock, found.id, owner, values)
    if changed is None:
        raise not_found("customization", "customization_not_found")
    return json_response(CustomizationEnvelope(customization=CustomizationView.of(changed)))


async def remove(request: Request, runtime: Runtime) -> Response:
    owner, found = await _own(request, runtime)
    await runtime.db.run(store.remove, runtime.db, found.id, owner)
    return Response(status_code=204)


async def preview_link(request: Request, runtime: Runtime) -> JSONResponse:
    """A short-lived signed link to the theme gallery, for the UX team (no API credentials needed there)."""
    owner, found = await _own(request, runtime)
    signed = runtime.keyring.serializer("preview").dumps({"cz": found.id, "app": owner})
    return json_response(PreviewLink(url=public_url_for(request, runtime.settings.base_url, "preview_gallery", signed=signed),
                                     expires_at=runtime.clock.now() + PREVIEW_LIFETIME))


routes = [
    ApiRoute("/customizations", create, methods=["POST"], name="create_customization", operation=Operation(
        "Create a theme", auth="tpp", body=CustomizationIn, responses={201: CustomizationEnvelope}, tags=["customizations"])),
    ApiRoute("/customizations/{customization_id}", read, methods=["GET"], name="customization", operation=Operation(
        "A theme, for its owner", auth="tpp", responses={200: CustomizationEnvelope}, tags=["customizations"])),
    ApiRoute("/customizations/{customization_id}", replace, methods=["PUT"], name="replace_customization", operation=Operation(
        "Replace a theme", auth="tpp", body=CustomizationIn, responses={200: CustomizationEnvelope}, tags=["customizations"])),
    ApiRoute("/customizations/{customization_id}", remove, methods=["DELETE"], name="remove_customization", operation=Operation(
        "Delete a theme", auth="tpp", responses={204: None}, tags=["customizations"])),
    ApiRoute("/customizations/{customization_id}/preview", preview_link, methods=["GET"], name="customization_preview", operation=Operation(
        "A one-hour link to the theme gallery: every screen, light and dark", auth="tpp", responses={200: PreviewLink},
        tags=["customizations"])),
]

