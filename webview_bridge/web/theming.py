"""Theme assets for the pages: a customization's logo, served same-origin, and the preview
gallery where a UX team sees every screen with its theme, light and dark — each drawn by the
same code that draws the real screen, from sample data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.banks.model import Account, AccountDetails
from webview_bridge.domain import consent as flow_rules
from webview_bridge.domain.apps import App
from webview_bridge.domain.customizations import Customization
from webview_bridge.domain.errors import Conflict, NotAllowed
from webview_bridge.domain.token_requests import TokenRequest
from webview_bridge.errors import ApiError, not_found
from webview_bridge.routing import PageRoute, path_for
from webview_bridge.runtime import Runtime
from webview_bridge.store import customizations as store
from webview_bridge.store.flows import Page
from webview_bridge.web.activation import activation_page
from webview_bridge.web.bank_auth import external_page
from webview_bridge.web.bank_select import selection
from webview_bridge.web.consent import _screen
from webview_bridge.web.flow import UNKNOWN, FlowPage
from webview_bridge.rendering import render

PREVIEW_MAX_AGE = 3600
_SAMPLE_ACCOUNTS = (
    Account("acc_preview1", "Everyday Account", "CHECKING", "GBP", "sandbox",
            AccountDetails("12345678", "CHECKING", "ACTIVE", "SNDBGB2L", "Alex Example", [])),
    Account("acc_preview2", "Euro Savings", "SAVINGS", "EUR", "sandbox",
            AccountDetails("DE89370400440532013000", "SAVINGS", "ACTIVE", "SNDBGB2L", "Alex Example", [])),
)

# Every v2 screen: what it is called in the gallery, and how the real code draws it.
SCREENS: dict[str, Callable[[FlowPage], Response]] = {}


def screen(name: str):
    def register(draw: Callable[[FlowPage], Response]) -> Callable[[FlowPage], Response]:
        SCREENS[name] = draw
        return draw
    return register


def _bank(flow: FlowPage, bank_id: str):
    return flow.runtime.banks.get(bank_id) or flow.runtime.directory.banks[0]


screen("bank_select")(lambda flow: selection(flow, "", ""))
screen("bank_select_country")(lambda flow: selection(flow, "", "DE"))
screen("consent")(lambda flow: _screen(flow, flow_rules.ConsentScreen(_bank(flow, "sandbox"), None)))
screen("consent_trusted")(lambda flow: _screen(flow, flow_rules.ConsentScreen(_bank(flow, "sandbox"), _SAMPLE_ACCOUNTS)))
screen("bank_external")(lambda flow: external_page(flow, _bank(flow, "nordlicht"), "#"))
screen("bank_external_waiting")(lambda flow: external_page(flow, _bank(flow, "nordlicht"), "#", waiting=True))
screen("bank_unavailable")(lambda flow: flow.bank_down_page(_bank(flow, "citta-eterna")))
screen("activation")(lambda flow: activation_page(flow, SimpleNamespace(name="Sandbox Bank app"), _bank(flow, "sandbox")))
screen("expired")(lambda flow: flow.finished(flow_rules.Finished("EXPIRED", "#")))
screen("shared")(lambda flow: flow.finished(flow_rules.Finished("PROCESSED", "#"),
                                            (2, flow.runtime.clock.now() + timedelta(days=90))))
screen("not_shared")(lambda flow: flow.finished(flow_rules.Finished("REJECTED", "#")))
screen("used")(lambda flow: flow.finished(flow_rules.Finished("PROCESSED", None)))
screen("stale")(lambda flow: flow.refused(Conflict("bank_return_used", "")))
screen("choose_first")(lambda flow: flow.refused(NotAllowed("choose_bank_first", "")))
screen("unknown")(lambda flow: flow.render("ending.html", UNKNOWN, status=404))


async def logo(request: Request, runtime: Runtime) -> Response:
    found = await runtime.db.run(store.get, runtime.db, request.path_params["customization_id"])
    if found is None or not found.logo:
        raise not_found("logo")
    media_type, content = found.logo_bytes  # type: ignore[misc]
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


async def _previewed(request: Request, runtime: Runtime) -> Customization:
    try:
        signed = runtime.keyring.serializer("preview").loads(request.path_params["signed"], max_age=PREVIEW_MAX_AGE)
    except BadSignature:
        raise ApiError(404, "not_found", "this preview link is not valid or has expired")
    found = await runtime.db.run(store.get, runtime.db, signed["cz"], signed["app"])
    if found is None:
        raise ApiError(404, "not_found", "this customization no longer exists")
    return found


async def gallery(request: Request, runtime: Runtime) -> Response:
    found = await _previewed(request, runtime)
    signed = request.path_params["signed"]
    frames = [{"screen": s, "scheme": scheme,
               "src": f"{path_for(request, 'preview_screen', signed=signed, screen=s)}?scheme={scheme}"}
              for s in SCREENS for scheme in ("light", "dark")]
    return render(runtime.templates, request, "preview_gallery.html", {"theme": found, "frames": frames})


def _sample_flow(request: Request, runtime: Runtime, theme: Customization, scheme: str) -> FlowPage:
    now = runtime.clock.now()
    sample = TokenRequest(
        id="rq_preview", app_id=theme.app_id, status="PENDING", created_at=now, expires_at=now + timedelta(minutes=20),
        csrf_token_hash="", token_id=None, error=None,
        details={"resources": ["ACCOUNTS", "BALANCES", "TRANSACTIONS"], "redirect_url": "#", "ref_id": "preview",
                 "description": "Budgeting with your accounts", "token_expiration_days": 90},
    )
    tpp = App(id=theme.app_id, name=theme.display_name, roles=frozenset({"tpp"}), redirect_urls=("#",), bank_id=None,
              independent_activation=False, embed_origin="'self'", created_at=now)
    page = Page(sample, tpp, None, theme, session_known=False, client_token=None, issuing_bank_id=None)
    return FlowPage(request, runtime, page, preview_scheme=scheme)


async def screen_page(request: Request, runtime: Runtime) -> Response:
    found = await _previewed(request, runtime)
    draw = SCREENS.get(request.path_params["screen"])
    if draw is None:
        raise not_found("screen")
    scheme = request.query_params.get("scheme", "light")
    response = draw(_sample_flow(request, runtime, found, scheme if scheme in ("light", "dark") else "light"))
    response.status_code = 200  # a sample of an end screen is not itself an error
    return response


routes = [
    PageRoute("/app/customizations/{customization_id}/logo", logo, methods=["GET"], name="customization_logo"),
    PageRoute("/app/preview/{signed}", gallery, methods=["GET"], name="preview_gallery"),
    PageRoute("/app/preview/{signed}/{screen}", screen_page, methods=["GET"], name="preview_screen"),
]
