"""The entry point and the bank selection screen (PROTOCOL §6)."""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.banks.directory import Bank, BankQuery
from webview_bridge.domain.consent import offered
from webview_bridge.domain.errors import Invalid
from webview_bridge.i18n import N_
from webview_bridge.routing import PageRoute
from webview_bridge.runtime import Runtime
from webview_bridge.web.activation import needs_activation
from webview_bridge.web.flow import FlowPage, open_flow, page_endpoint
from webview_bridge.web.handoff import take_client_token
from webview_bridge.web.session import check_csrf
from webview_bridge.rendering import logo_css, page_language


def offered_banks(flow: FlowPage) -> list[Bank]:
    """The banks this request can use, by name."""
    request = flow.token_request
    key = (tuple(request.details.get("countries") or ()), tuple(request.resources))
    cache: dict = flow.runtime.offered
    banks = cache.get(key)
    if banks is None:  # the directory is fixed for the life of the process: each pair is worked out once
        if len(cache) > 256:
            cache.clear()
        banks = cache[key] = tuple(b for b in flow.runtime.directory.find(BankQuery()).banks if offered(request, b))
    return list(banks)


# A page language's most likely country, when the browser names none (its region wins). English
# and Arabic are spoken in too many countries to guess one.
LIKELY_COUNTRY = {"de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "pl": "PL", "pt": "PT", "sv": "SE",
                  "da": "DK", "fi": "FI", "cs": "CZ"}
YOUR_BANK, POPULAR, ALL = N_("Your bank"), N_("Popular banks"), N_("All banks")
CHOICE_PROBLEMS = {
    "bank_unavailable": N_("That bank is under maintenance. Choose another bank."),
    "bank_not_allowed": N_("This request is for another bank."),
    "unknown_bank": N_("Choose a bank from the list."),
}


def likely_country(request: Request, offered_countries: list[str]) -> str:
    """?country=, else the region of the browser's language (en-IE → IE), else the page language's usual country."""
    given = request.query_params.get("country")
    if given is not None:
        return given.upper()
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip()
        if "-" in tag and tag.split("-")[0].lower() == page_language(request).code:
            region = tag.split("-")[-1].upper()
            if region in offered_countries:
                return region
    guess = LIKELY_COUNTRY.get(page_language(request).code, "")
    return guess if guess in offered_countries else ""


def selection(flow: FlowPage, search: str, country: str | None = None, status: int = 200, first: str | None = None,
              problem: str | None = None) -> Response:
    offers = offered_banks(flow)
    names = page_language(flow.request).country_names
    countries = sorted({c for b in offers for c in b.countries}, key=lambda c: names.get(c, c))
    if country is None:
        country = likely_country(flow.request, countries)
    if country not in countries:
        country = ""
    shown = offers
    if search:
        matching = {b.id for b in flow.runtime.directory.find(BankQuery(search=search[:100]), tuple(shown)).banks}
        shown = [b for b in shown if b.id in matching]
    # Every bank the request can use is on the page; the country is a style rule, so changing it
    # needs no round trip (and the rule holds without JavaScript).
    in_country = {b.id for b in shown if not country or country in b.countries}
    own = [b for b in shown if b.id == first]
    popular = [b for b in shown if b.popular and b.id != first] if not search else []
    grouped = {b.id for b in own} | {b.id for b in popular}
    rest = [b for b in shown if b.id not in grouped]
    groups = [{"title": title, "html": rendered_bank_list(flow.request, flow.runtime, tuple(banks)),
               "visible": any(b.id in in_country for b in banks)}
              for title, banks in ((YOUR_BANK, own), (POPULAR, popular), (ALL, rest)) if banks]
    country_css = Markup(f'.banks li:not([data-c~="{country}"]){{display:none}}') if country else ""  # a checked code
    return flow.render("bank_select.html", {
        "shown": bool(in_country), "groups": groups, "logo_css": logo_css(shown), "country_css": country_css,
        "countries": countries, "country": country, "search": search, "csrf": flow.csrf(), "event": "OPEN",
        "problem": problem,
    }, status=status)


def rendered_bank_list(request: Request, runtime: Runtime, banks: tuple[Bank, ...]) -> Markup:
    """A group of bank buttons, rendered once per set of banks and language (a few dozen sets in practice)."""
    cache: dict[tuple[str, ...], Markup] = runtime.fragments
    speaks = page_language(request)
    key = (speaks.code, *(b.id for b in banks))
    if key not in cache:
        env = runtime.templates.env
        if len(cache) > 256:
            cache.clear()
        cache[key] = Markup(env.get_template("_bank_list.html").render(banks=banks, _=speaks.gettext))
    return cache[key]


async def _choose(flow: FlowPage, bank_id: str) -> Response:
    try:
        outcome = await flow.runtime.consent.choose(flow.token_request, flow.visitor(), bank_id)
    except Invalid as refusal:
        preset = flow.runtime.banks.get(flow.token_request.bank_id or "")
        if preset is not None and refusal.code == "bank_unavailable":
            return flow.bank_down_page(preset)
        return selection(flow, "", "", status=400, problem=page_language(flow.request).gettext(
            CHOICE_PROBLEMS.get(refusal.code, CHOICE_PROBLEMS["unknown_bank"])))
    return await flow.respond(outcome)


@page_endpoint
async def entry(request: Request, runtime: Runtime) -> Response:
    """GET /app/request-token/{request_id}: where the WebView starts."""
    request_id = request.path_params["request_id"]
    await take_client_token(request, runtime, "/app/request-token/{request_id}")
    flow = await open_flow(request, runtime, request_id)
    if needs_activation(flow):
        return flow.redirect(flow.url("activation"))
    if flow.token_request.bank_id:
        return await _choose(flow, flow.token_request.bank_id)
    return selection(flow, request.query_params.get("search", "").strip(), first=flow.page.issuing_bank_id)


@page_endpoint
async def choose_bank(request: Request, runtime: Runtime) -> Response:
    """POST /app/request-token/{request_id}/bank: the customer picked a bank."""
    flow = await open_flow(request, runtime, request.path_params["request_id"], issue=False)
    form = await request.form()
    await check_csrf(request, runtime, form.get("csrf"), flow.token_request.id, flow.page.session_known)
    return await _choose(flow, str(form.get("bank_id", "")))


routes = [
    PageRoute("/app/request-token/{request_id}", entry, methods=["GET"], name="request_token"),
    PageRoute("/app/request-token/{request_id}/bank", choose_bank, methods=["POST"], name="choose_bank"),
]
