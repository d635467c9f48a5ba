"""What every screen of the consent flow shares: loading the request with the browser's session,
turning the consent service's outcomes into responses, and the end screens (PROTOCOL §6).

Screens parse forms, call `runtime.consent`, and hand its answer to `FlowPage.respond`; they
decide nothing themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from webview_bridge.banks.connector import Customer
from webview_bridge.domain import consent as flow_rules
from webview_bridge.domain.customizations import theme_css
from webview_bridge.domain.errors import Refused
from webview_bridge.errors import STATUS
from webview_bridge.runtime import Runtime
from webview_bridge.store import flows
from webview_bridge.web.session import csrf_token, current_session, issue_session, remember_session, session_hash
from webview_bridge.store import tokens as token_store
from webview_bridge.rendering import page_language, render
from webview_bridge.routing import Handler, path_for

# What the customer is shown for a refusal from the flow's rules, by its code.
_REFUSAL_PAGES = {"choose_bank_first": "choose_first", "bank_return_used": "stale", "strong_auth_used": "stale"}


def customer_context(request: Request, bank_user: str | None = None) -> Customer:
    """The customer's address (as the trusted-proxy rules give it) and browser, for the bank."""
    return Customer(ip_address=request.client.host if request.client else None,
                    user_agent=request.headers.get("user-agent"), bank_user=bank_user)


@dataclass
class FlowPage:
    """One customer's look at one token request."""

    request: Request
    runtime: Runtime
    page: flows.Page
    preview_scheme: str | None = None  # the theme gallery's sample: no session, a fixed colour scheme

    @property
    def token_request(self):
        return self.page.request

    @property
    def tpp(self):
        return self.page.tpp

    @property
    def state(self):
        return self.page.state

    @property
    def theme(self):
        return self.page.theme

    @property
    def status(self) -> str:
        return self.token_request.status_at(self.runtime.clock.now())

    @property
    def session(self) -> str:
        if self.preview_scheme is not None:
            return "preview"
        value = current_session(self.request, self.runtime)
        assert value is not None, "open_flow issues a session before anything is shown"
        return value

    def visitor(self) -> flow_rules.Visitor:
        token = self.page.client_token
        return flow_rules.Visitor(
            session=session_hash(self.runtime, self.session), client_token=token,
            issuing_bank_id=self.page.issuing_bank_id,
            context=customer_context(self.request, token.customer_ref if token else None),
        )

    @property
    def who_asks(self) -> dict[str, Any]:
        acting_as = self.token_request.details.get("acting_as") or {}
        brand = self.theme.display_name if self.theme else self.tpp.name
        return {"app_name": brand, "display_name": acting_as.get("display_name") or brand,
                "secondary_name": acting_as.get("secondary_name"), "via": bool(acting_as),
                "logo_url": path_for(self.request, "customization_logo", customization_id=self.theme.id)
                if self.theme and self.theme.logo else None}

    def csrf(self) -> str:
        return csrf_token(self.runtime, self.session, self.token_request.id)

    def url(self, screen: str = "request_token") -> str:
        """The path of one of this request's screens, by route name."""
        return path_for(self.request, screen, request_id=self.token_request.id)

    def render(self, name: str, context: dict[str, Any], status: int = 200) -> Response:
        base = {"flow": self, "rq": self.token_request, "who": self.who_asks, "request_id": self.token_request.id,
                "theme_css": theme_css(self.theme, self.preview_scheme) if self.preview_scheme else theme_css(self.theme),
                "consent_text": self.theme.consent_text if self.theme else None,
                "tpp_lang": self.token_request.details.get("text_language")}
        response = render(self.runtime.templates, self.request, name, {**base, **context}, status=status,
                          embed_origin=self.tpp.embed_origin)
        return remember_session(self.request, self.runtime, response)

    def redirect(self, target: str) -> Response:
        return remember_session(self.request, self.runtime, RedirectResponse(target, status_code=302))

    # --- outcomes -------------------------------------------------------------------------

    async def respond(self, outcome: flow_rules.Outcome, screens: dict[type, Callable[..., Awaitable[Response]]] | None = None) -> Response:
        """The response for what the consent service answered; `screens` renders the ones a screen draws itself."""
        if screens and type(outcome) in screens:
            return await screens[type(outcome)](outcome)
        if isinstance(outcome, flow_rules.ToConsent):
            return self.redirect(self.url("consent"))
        if isinstance(outcome, flow_rules.ToBank):
            return self.redirect(self.url("bank_auth") if outcome.external else outcome.url)
        if isinstance(outcome, flow_rules.BackToTpp):
            return self.redirect(outcome.url)
        if isinstance(outcome, flow_rules.Finished):
            return await self.finished_page(outcome)
        if isinstance(outcome, flow_rules.BankDown):
            return self.bank_down(outcome)
        raise TypeError(f"no response for {outcome!r}")

    async def finished_page(self, outcome: flow_rules.Finished) -> Response:
        """The end screen; to the session that shared, what it shared (how many accounts, until when)."""
        shared = None
        if outcome.status == "PROCESSED" and outcome.way_back and self.token_request.token_id:
            token = await self.runtime.db.run(token_store.get, self.runtime.db, self.token_request.token_id)
            if token is not None:
                shared = (len(token.account_ids), token.expires_at)
        return self.finished(outcome, shared)

    def finished(self, outcome: flow_rules.Finished, shared: tuple[int, Any] | None = None) -> Response:
        expired = outcome.status == "EXPIRED"
        if expired:
            kind = "expired"
        elif outcome.way_back:
            kind = "shared" if outcome.status == "PROCESSED" else "not_shared"
        else:
            kind = "used"
        context: dict[str, Any] = {"kind": kind, "back_url": outcome.way_back, "event": "ERROR" if expired else "EXIT"}
        if shared is not None:
            speaks = page_language(self.request)
            count, until = shared
            context["shared_sentence"] = speaks.ngettext(
                "You shared %(num)d account until %(date)s.", "You shared %(num)d accounts until %(date)s.", count,
                date=speaks.format_date(until))
        return self.render("ending.html", context, status=410 if expired else 409)

    def bank_down(self, outcome: flow_rules.BankDown) -> Response:
        return self.render("bank_unavailable.html", {
            "bank": outcome.bank, "csrf": self.csrf(), "can_choose_again": outcome.can_choose_again,
            "event": "ERROR", "event_data": {"code": "bank_unavailable"},
        }, status=503)

    def bank_down_page(self, bank: Any) -> Response:
        return self.bank_down(flow_rules.BankDown(bank, can_choose_again=self.token_request.bank_id is None))

    def refused(self, refusal: Refused) -> Response:
        kind = _REFUSAL_PAGES.get(refusal.code, "stale")
        status = next(code for cls, code in STATUS.items() if isinstance(refusal, cls))
        return self.render("ending.html", {"kind": kind, "back_url": None, "event": "ERROR",
                                           "restart_url": self.url() if kind == "choose_first" else None}, status=status)


class PageEnd(Exception):
    """Raised while loading a flow when the request cannot go on; carries the page to show."""

    def __init__(self, response: Response) -> None:
        self.response = response


UNKNOWN = {"kind": "unknown", "back_url": None, "event": "ERROR"}


def unknown_request(request: Request, runtime: Runtime) -> Response:
    return remember_session(request, runtime, render(runtime.templates, request, "ending.html", UNKNOWN, status=404))


async def open_flow(request: Request, runtime: Runtime, request_id: str, *, pending: bool = True,
                    issue: bool = True) -> FlowPage:
    """The flow for a request id with the browser's session, or PageEnd with the right end screen
    (404, 410, already finished). A session the server does not know is replaced by a new one
    (`issue`); form posts pass issue=False, so a forged session is refused, not replaced."""
    session = current_session(request, runtime)
    page = await runtime.db.run(flows.load_page, runtime.db, runtime.keyring, runtime.clock, request_id,
                                session_hash(runtime, session) if session else None)
    if page is None:
        raise PageEnd(unknown_request(request, runtime))
    if not page.session_known and issue:
        await issue_session(request, runtime)
    flow = FlowPage(request, runtime, page)
    if pending and flow.status != "PENDING":
        if not page.session_known and not issue:
            await issue_session(request, runtime)
        raise PageEnd(await flow.finished_page(await runtime.consent.ending(page.request, page.state, flow.visitor().session)))
    return flow


def page_endpoint(handler: Handler) -> Handler:
    """Turn PageEnd into its page, so screens read as the happy path."""

    async def endpoint(request: Request, runtime: Runtime) -> Response:
        try:
            return await handler(request, runtime)
        except PageEnd as end:
            return end.response

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
