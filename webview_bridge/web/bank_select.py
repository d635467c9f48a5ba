"""The entry point and the bank selection screen (PROTOCOL §6)."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from webview_bridge.banks.directory import Bank, BankQuery, find_banks, get_bank
from webview_bridge.web.bank_auth import start_bank_auth
from webview_bridge.web.flow import Flow, open_flow, page_endpoint
from webview_bridge.web.activation import needs_activation
from webview_bridge.web.handoff import session_customer, take_client_token
from webview_bridge.web.session import check_csrf, ensure_session, remember_session
from webview_bridge.web.templating import logo_css, page_language


def offered_banks(flow: Flow, first: str | None = None) -> list[Bank]:
    """The banks this request can use: in its countries, offering every resource it asks for;
    the customer's own bank (known from a client token) first."""
    banks = _offered(tuple(flow.token_request.details.get("countries") or ()), tuple(flow.token_request.resources))
    return sorted(banks, key=lambda b: b.id != first) if first else list(banks)


@lru_cache(maxsize=256)
def _offered(countries: tuple[str, ...], resources: tuple[str, ...]) -> tuple[Bank, ...]:
    # The directory is fixed for the life of the process, so each (countries, resources) pair is worked out once.
    return tuple(b for b in find_banks(BankQuery(countries=countries)).banks if all(b.supports(r) for r in resources))


def _selection(flow: Flow, search: str, country: str, status: int = 200, first: str | None = None) -> Response:
    offered = offered_banks(flow, first)
    names = page_language(flow.request).country_names
    countries = sorted({c for b in offered for c in b.countries}, key=lambda c: names.get(c, c))
    shown = offered
    if country in countries:
        shown = [b for b in shown if country in b.countries]
    else:
        country = ""
    if search:
        matching = {b.id for b in find_banks(BankQuery(search=search[:100]), tuple(shown)).banks}
        shown = [b for b in shown if b.id in matching]
    bank_list, logo_css = rendered_bank_list(flow.request, tuple(shown))
    return flow.page("bank_select.html", {
        "banks": shown, "bank_list": bank_list, "logo_css": logo_css, "countries": countries, "country": country,
        "search": search, "csrf": flow.csrf(), "event": "OPEN",
    }, status=status)


def rendered_bank_list(request: Request, banks: tuple[Bank, ...]) -> tuple[Markup, Markup]:
    """The bank buttons and their logo colours, rendered once per set of banks (a dozen sets in practice)."""
    cache: dict[tuple[str, ...], tuple[Markup, Markup]] = request.app.state.fragments
    speaks = page_language(request)
    key = (speaks.code, *(b.id for b in banks))
    if key not in cache:
        env = request.app.state.templates.env
        html = Markup(env.get_template("_bank_list.html").render(banks=banks, _=speaks.gettext))
        css = logo_css(banks)
        if len(cache) > 256:
            cache.clear()
        cache[key] = (html, css)
    return cache[key]


@page_endpoint
async def entry(request: Request) -> Response:
    """GET /app/request-token/{request_id}: where the WebView starts."""
    flow = await open_flow(request, request.path_params["request_id"])
    await take_client_token(request)
    ensure_session(request)
    customer = await session_customer(request)
    if needs_activation(customer):
        target = f"/app/request-token/{flow.token_request.id}/activation"
        return remember_session(request, RedirectResponse(target, status_code=302))
    preset = flow.token_request.bank_id
    if preset:
        bank = get_bank(preset)
        assert bank is not None  # checked when the request was stored
        return await start_bank_auth(flow, bank)
    own_bank = customer[1].bank_id if customer else None
    return _selection(flow, request.query_params.get("search", "").strip(),
                      request.query_params.get("country", "").upper(), first=own_bank)


@page_endpoint
async def choose_bank(request: Request) -> Response:
    """POST /app/request-token/{request_id}/bank: the customer picked a bank."""
    flow = await open_flow(request, request.path_params["request_id"])
    form = await request.form()
    await check_csrf(request, form.get("csrf"), flow.token_request.id)
    bank = get_bank(str(form.get("bank_id", "")))
    if bank is None or bank not in offered_banks(flow) or bank.status != "available":
        return _selection(flow, "", "", status=400)
    return await start_bank_auth(flow, bank)


routes = [
    Route("/app/request-token/{request_id}", entry, methods=["GET"]),
    Route("/app/request-token/{request_id}/bank", choose_bank, methods=["POST"]),
]

