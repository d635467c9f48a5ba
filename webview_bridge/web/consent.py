"""The consent screen, before the bank (PROTOCOL §6): who asks and who receives the data, the
bank, each resource in plain words, until when, why, how to stop sharing, and that accounts are
chosen at the bank; "Allow" or "Deny". On the trusted path the screen itself lists the accounts."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.banks.model import Account
from webview_bridge.domain import consent as flow_rules
from webview_bridge.domain.errors import Invalid, Refused
from webview_bridge.i18n import N_
from webview_bridge.routing import PageRoute
from webview_bridge.runtime import Runtime
from webview_bridge.web.flow import FlowPage, open_flow, page_endpoint
from webview_bridge.web.session import check_csrf
from webview_bridge.rendering import logo_css

# Each resource in plain words (PROTOCOL §6); the order is the order shown.
RESOURCE_WORDS = {
    "ACCOUNTS": N_("See your account names, types and numbers"),
    "BALANCES": N_("See your balances"),
    "TRANSACTIONS": N_("See your transactions, going back up to 13 months"),
    "STANDING_ORDERS": N_("See your standing orders"),
    "TRANSFER_DESTINATIONS": N_("See the people and accounts you have saved to pay"),
    "FUNDS_CONFIRMATIONS": N_("Check whether you have enough money for a payment"),
}


def consent_context(flow: FlowPage, bank, accounts: tuple[Account, ...] | None, chosen: set[str] | None = None,
                    problem: str | None = None) -> dict:
    """What the consent screen shows; the preview gallery builds its sample from this too."""
    until = flow.runtime.clock.now() + timedelta(days=flow.token_request.details["token_expiration_days"])
    return {
        "bank": bank, "logo_css": logo_css([bank]), "accounts": accounts,
        "chosen": chosen if chosen is not None else {a.id for a in accounts or ()},
        "resources": [RESOURCE_WORDS[r] for r in RESOURCE_WORDS if r in flow.token_request.resources],
        "until": until, "description": flow.token_request.description, "csrf": flow.csrf(), "problem": problem,
        "renewal": bool(flow.token_request.details.get("replaces_token_id")),
    }


def _screen(flow: FlowPage, screen: flow_rules.ConsentScreen, chosen: set[str] | None = None,
            problem: str | None = None) -> Response:
    context = consent_context(flow, screen.bank, screen.trusted_accounts, chosen, problem)
    return flow.render("consent.html", context, status=400 if problem else 200)


@page_endpoint
async def show(request: Request, runtime: Runtime) -> Response:
    flow = await open_flow(request, runtime, request.path_params["request_id"])
    try:
        outcome = await flow.runtime.consent.consent_screen(flow.token_request, flow.state, flow.visitor())
    except Refused as refusal:
        return flow.refused(refusal)
    if isinstance(outcome, flow_rules.ConsentScreen):
        return _screen(flow, outcome)
    return await flow.respond(outcome)


@page_endpoint
async def decide(request: Request, runtime: Runtime) -> Response:
    flow = await open_flow(request, runtime, request.path_params["request_id"], issue=False)
    form = await request.form()
    await check_csrf(request, runtime, form.get("csrf"), flow.token_request.id, flow.page.session_known)
    consent, visitor = flow.runtime.consent, flow.visitor()
    try:
        if form.get("decision") == "deny":
            flow.runtime.consent.chosen_bank(flow.state, visitor)
            return await flow.respond(await consent.end_without_token(flow.token_request, visitor.session,
                                                                      flow_rules.ACCESS_DENIED))
        if form.get("decision") != "allow":
            screen = await consent.consent_screen(flow.token_request, flow.state, visitor)
            return _screen(flow, screen, problem=N_("Choose Allow or Deny.")) \
                if isinstance(screen, flow_rules.ConsentScreen) else await flow.respond(screen)
        chosen = tuple(str(v) for v in form.getlist("account_id"))
        try:
            outcome = await consent.allow(flow.token_request, flow.state, visitor, app_name=flow.who_asks["display_name"],
                                          chosen_accounts=chosen)
        except Invalid as refusal:  # the trusted path's accounts: none, or not the customer's
            screen = await consent.consent_screen(flow.token_request, flow.state, visitor)
            if not isinstance(screen, flow_rules.ConsentScreen):
                return await flow.respond(screen)
            known = {a.id for a in screen.trusted_accounts or ()}
            return _screen(flow, screen, chosen=set(chosen) & known, problem=refusal.message)
    except Refused as refusal:
        return flow.refused(refusal)
    return await flow.respond(outcome)


routes = [
    PageRoute("/app/request-token/{request_id}/consent", show, methods=["GET"], name="consent"),
    PageRoute("/app/request-token/{request_id}/consent", decide, methods=["POST"], name="decide_consent"),
]
