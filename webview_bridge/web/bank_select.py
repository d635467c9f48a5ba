"""The entry point and the bank selection screen (PROTOCOL §6)."""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.banks.directory import Bank, BankQuery
from webview_bridge.domain.consent import offered
from webview_bridge.domain.errors import Invalid
from webview_bridge.web.activation import needs_activation
from webview_bridge.web.flow import FlowPage, open_flow, page_endpoint
from webview_bridge.web.handoff import take_client_token
from webview_bridge.web.session import check_csrf
from webview_bridge.web.templating import logo_css, page_language


def offered_banks(flow: FlowPage, first: str | None = None) -> list[Bank]:
    """The banks this request can use; the customer's own bank (known from a client token) first."""
    request = flow.token_request
    key = (tuple(request.details.get("countries") or ()), tuple(request.resources))
    cache: dict = flow.request.app.state.offered
    banks = cache.get(key)
    if banks is None:  # the directory is fixed for the life of the process: each pair is worked out once
        if len(cache) > 256:
            cache.clear()
        banks = cache[key] = tuple(b for b in flow.runtime.directory.find(BankQuery()).banks if offered(request, b))
    return sorted(banks, key=lambda b: b.id != first) if first else list(banks)


def selection(flow: FlowPage, search: str, country: str, status: int = 200, first: str | None = None,
              problem: str | None = None) -> Response:
    offers = offered_banks(flow, first)
    names = page_language(flow.request).country_names
    countries = sorted({c for b in offers for c in b.countries}, key=lambda c: names.get(c, c))
    shown = offers
    if country in countries:
        shown = [b for b in shown if country in b.countries]
    else:
        country = ""
    if search:
        matching = {b.id for b in flow.runtime.directory.find(BankQuery(search=search[:100]), tuple(shown)).banks}
        shown = [b for b in shown if b.id in matching]
    bank_list, bank_css = rendered_bank_list(flow.request, tuple(shown))
    return flow.render("bank_select.html", {
        "banks": shown, "bank_list": bank_list, "logo_css": bank_css, "countries": countries, "country": country,
        "search": search, "csrf": flow.csrf(), "event": "OPEN", "problem": problem,
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


async def _choose(flow: FlowPage, bank_id: str) -> Response:
    try:
        outcome = await flow.runtime.consent.choose(flow.token_request, flow.visitor(), bank_id)
    except Invalid as refusal:
        preset = flow.runtime.banks.get(flow.token_request.bank_id or "")
        if preset is not None and refusal.code == "bank_unavailable":
            return flow.bank_down_page(preset)
        return selection(flow, "", "", status=400, problem=refusal.message)
    return await flow.respond(outcome)


@page_endpoint
async def entry(request: Request) -> Response:
    """GET /app/request-token/{request_id}: where the WebView starts."""
    request_id = request.path_params["request_id"]
    await take_client_token(request, "/app/request-token/{request_id}")
    flow = await open_flow(request, request_id)
    if needs_activation(flow):
        return flow.redirect(flow.url("/activation"))
    if flow.token_request.bank_id:
        return await _choose(flow, flow.token_request.bank_id)
    own_bank = flow.page.issuing_bank_id
    return selection(flow, request.query_params.get("search", "").strip(),
                     request.query_params.get("country", "").upper(), first=own_bank)


@page_endpoint
async def choose_bank(request: Request) -> Response:
    """POST /app/request-token/{request_id}/bank: the customer picked a bank."""
    flow = await open_flow(request, request.path_params["request_id"], issue=False)
    form = await request.form()
    await check_csrf(request, form.get("csrf"), flow.token_request.id, flow.page.session_known)
    return await _choose(flow, str(form.get("bank_id", "")))


routes = [
    Route("/app/request-token/{request_id}", entry, methods=["GET"]),
    Route("/app/request-token/{request_id}/bank", choose_bank, methods=["POST"]),
]
