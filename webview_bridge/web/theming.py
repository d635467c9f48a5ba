"""Theme assets for the pages: a customization's logo, served same-origin, and the preview
gallery where a UX team sees every screen with its theme, light and dark."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.banks.directory import get_bank
from webview_bridge.domain.customizations import Customization, theme_css
from webview_bridge.errors import ApiError, not_found
from webview_bridge.store import customizations as store
from webview_bridge.web.bank_select import rendered_bank_list
from webview_bridge.web.consent import RESOURCE_WORDS
from webview_bridge.web.templating import logo_css, render

PREVIEW_MAX_AGE = 3600
SCREENS = ("bank_select", "sandbox_bank_login", "bank_external", "bank_unavailable", "consent", "activation",
           "expired", "used", "unknown")


async def logo(request: Request) -> Response:
    runtime = request.app.state.runtime
    found = await runtime.db.run(store.get, runtime.db, request.path_params["customization_id"])
    if found is None or not found.logo:
        raise not_found("logo")
    media_type, content = found.logo_bytes  # type: ignore[misc]
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


async def _previewed(request: Request) -> Customization:
    runtime = request.app.state.runtime
    try:
        signed = runtime.keyring.serializer("preview").loads(request.path_params["signed"], max_age=PREVIEW_MAX_AGE)
    except BadSignature:
        raise ApiError(404, "not_found", "this preview link is not valid or has expired")
    found = await runtime.db.run(store.get, runtime.db, signed["cz"], signed["app"])
    if found is None:
        raise ApiError(404, "not_found", "this customization no longer exists")
    return found


async def gallery(request: Request) -> Response:
    found = await _previewed(request)
    base = f"/app/preview/{request.path_params['signed']}"
    frames = [{"screen": s, "scheme": scheme, "src": f"{base}/{s}?scheme={scheme}"} for s in SCREENS for scheme in ("light", "dark")]
    return render(request, "preview_gallery.html", {"theme": found, "frames": frames})



async def screen(request: Request) -> Response:
    found = await _previewed(request)
    name = request.path_params["screen"]
    if name not in SCREENS:
        raise not_found("screen")
    scheme = request.query_params.get("scheme", "light")
    scheme = scheme if scheme in ("light", "dark") else "light"
    sandbox, external, failing = get_bank("sandbox"), get_bank("nordlicht"), get_bank("citta-eterna")
    runtime = request.app.state.runtime
    who = {"app_name": found.display_name, "display_name": found.display_name, "secondary_name": None, "via": False,
           "logo_url": f"/app/customizations/{found.id}/logo" if found.logo else None}
    context = {"who": who, "request_id": "rq_preview", "csrf": "preview", "theme_css": theme_css(found, scheme),
               "consent_text": found.consent_text, "event": ""}
    if name == "bank_select":
        from webview_bridge.banks.directory import all_banks

        banks = tuple(b for b in all_banks() if b.id in ("sandbox", "emeraude", "lakowy", "hansekontor", "nordlicht"))
        bank_list, bank_css = rendered_bank_list(request, banks)
        template = "bank_select.html"
        context.update(banks=banks, bank_list=bank_list, logo_css=bank_css, countries=["DE", "FR", "GB", "PL"],
                       country="", search="")
    elif name == "sandbox_bank_login":
        template, context["bank"] = "sandbox_bank_login.html", sandbox
        context.update(logo_css=logo_css([sandbox]), state="", return_url="", problem=None, pending=None, username="")
    elif name == "bank_external":
        template = "bank_external.html"
        context.update(bank=external, bank_url="#")
    elif name == "bank_unavailable":
        template = "bank_unavailable.html"
        context.update(bank=failing, can_choose_again=True)
    elif name == "consent":
        template = "consent.html"
        accounts = runtime.connector.accounts(sandbox, "alice")
        context.update(bank=sandbox, holder="Alice Andersson", accounts=accounts, chosen={a.id for a in accounts},
                       resources=list(RESOURCE_WORDS.values())[:3], until=datetime.now(timezone.utc) + timedelta(days=90),
                       description="Budgeting with your accounts", problem=None)
    elif name == "activation":
        template = "activation.html"
        context.update(bank=sandbox, bank_app=SimpleNamespace(name="Sandbox Bank app"))
    else:
        template = "ending.html"
        context.update(kind=name, back_url="#" if name != "unknown" else None)
    return render(request, template, context, embed_origin="'self'")


routes = [
    Route("/app/customizations/{customization_id}/logo", logo, methods=["GET"]),
    Route("/app/preview/{signed}", gallery, methods=["GET"]),
    Route("/app/preview/{signed}/{screen}", screen, methods=["GET"]),
]
