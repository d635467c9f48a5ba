"""What every screen of the consent flow shares: loading the request, the way back to the TPP,
and the end screens (PROTOCOL §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from webview_bridge.domain.apps import App
from webview_bridge.domain.customizations import Customization, theme_css
from webview_bridge.domain.redirects import tpp_redirect
from webview_bridge.domain.token_requests import TokenRequest
from webview_bridge.runtime import Runtime
from webview_bridge.security.callback_state import sign_callback_state
from webview_bridge.store import flows
from webview_bridge.web.session import csrf_token, ensure_session, remember_session
from webview_bridge.web.templating import render


@dataclass(frozen=True)
class Flow:
    """One customer's look at one token request."""

    request: Request
    runtime: Runtime
    token_request: TokenRequest
    tpp: App
    state: flows.Flow | None  # where the customer's flow stands, as loaded with the request
    theme: Customization | None = None

    @property
    def status(self) -> str:
        return self.token_request.status_at(self.runtime.clock.now())

    @property
    def who_asks(self) -> dict[str, Any]:
        acting_as = self.token_request.details.get("acting_as") or {}
        brand = self.theme.display_name if self.theme else self.tpp.name
        return {"app_name": brand, "display_name": acting_as.get("display_name") or brand,
                "secondary_name": acting_as.get("secondary_name"), "via": bool(acting_as),
                "logo_url": f"/app/customizations/{self.theme.id}/logo" if self.theme and self.theme.logo else None}

    def csrf(self) -> str:
        return csrf_token(self.request, ensure_session(self.request), self.token_request.id)

    def page(self, name: str, context: dict[str, Any], status: int = 200) -> Response:
        base = {"flow": self, "rq": self.token_request, "who": self.who_asks, "request_id": self.token_request.id,
                "theme_css": theme_css(self.theme), "consent_text": self.theme.consent_text if self.theme else None}
        response = render(self.request, name, {**base, **context}, status=status, embed_origin=self.tpp.embed_origin)
        return remember_session(self.request, response)

    async def way_back(self, *, token_id: str | None = None, error: str | None = None) -> str:
        """The TPP's redirect URL with request-id, token-id or error, and the signed state."""
        secrets = await self.runtime.db.run(self.runtime.callback_secrets, self.tpp.id)
        rq = self.token_request
        state = sign_callback_state(
            secrets, app_id=self.tpp.id, request_id=rq.id, token_id=token_id,
            callback_state=rq.details.get("callback_state"), csrf_token_hash=rq.csrf_token_hash, error=error,
        )
        return tpp_redirect(rq.redirect_url, {"request-id": rq.id, "token-id": token_id, "error": error, "state": state})

    async def back_to_tpp(self, *, token_id: str | None = None, error: str | None = None) -> Response:
        return RedirectResponse(await self.way_back(token_id=token_id, error=error), status_code=302)

    async def ending(self, kind: str, status: int) -> Response:
        """An end screen, with a way back to the TPP carrying the request's final outcome."""
        rq = self.token_request
        current = self.status
        if current == "PROCESSED":
            back = await self.way_back(token_id=rq.token_id)
        elif current == "REJECTED":
            back = await self.way_back(error=rq.error or "access_denied")
        elif current == "EXPIRED":
            back = await self.way_back(error="request_expired")
        else:
            back = None
        return self.page("ending.html", {"kind": kind, "back_url": back, "event": "ERROR" if kind != "done" else "EXIT"},
                         status=status)


class PageEnd(Exception):
    """Raised while loading a flow when the request cannot go on; carries the page to show."""

    def __init__(self, response: Response) -> None:
        self.response = response


def unknown_request(request: Request) -> Response:
    return remember_session(request, render(request, "ending.html", {"kind": "unknown", "back_url": None,
                                                                     "event": "ERROR"}, status=404))


async def open_flow(request: Request, request_id: str, *, pending: bool = True) -> Flow:
    """The flow for a request id, or PageEnd with the right end screen (404, 410, already used)."""
    runtime: Runtime = request.app.state.runtime
    loaded = await runtime.db.run(flows.load, runtime.db, request_id)
    if loaded is None:
        raise PageEnd(unknown_request(request))
    token_request, tpp, state, theme = loaded
    flow = Flow(request, runtime, token_request, tpp, state, theme)
    if pending:
        status = flow.status
        if status == "EXPIRED":
            raise PageEnd(await flow.ending("expired", 410))
        if status != "PENDING":
            raise PageEnd(await flow.ending("used", 409))
    return flow


async def final_state(flow: Flow) -> Response:
    """Someone else decided first (another tap, another browser): show how it ended, make nothing."""
    try:
        await open_flow(flow.request, flow.token_request.id)
    except PageEnd as end:
        return end.response
    raise RuntimeError("a request that could not be decided is still pending")


def page_endpoint(handler):
    """Turn PageEnd into its page, so screens read as the happy path."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except PageEnd as end:
            return end.response

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
