"""What protects the bank's own pages, as a real bank protects its login:

- the page link carries a random 256-bit token, not the consent id, and only its hash is kept;
- the first browser to open the link gets an HttpOnly cookie scoped to that link's path, and the
  link then works only in that browser;
- every form carries a CSRF token, a MAC of the link and that cookie;
- the authorisation ends once (Confirm, Cancel, or too many failures): a replayed post finds it
  finished and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.i18n import N_
from webview_bridge.ids import new_secret
from webview_bridge.sandbox_bank import store
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.consents import RECEIVED, Consent
from webview_bridge.sandbox_bank.special_banks import is_unavailable
from webview_bridge.sandbox_bank.store import Authorisation
from webview_bridge.rendering import logo_css, render

COOKIE = "sandbox_bank_sca"
AGAIN = N_("Go back to the app and start again.")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class Stop(Exception):
    """Ends a page request early with this response (a message page or a redirect)."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass
class Visit:
    """One page request on one authorisation, after the guard let it through."""

    request: Request
    config: SandboxConfig
    bank: Any
    link: str
    authorisation: Authorisation
    consent: Consent
    cookie: str
    new_cookie: bool = False

    @property
    def page_path(self) -> str:
        return f"{self.request.scope.get('root_path', '')}/{self.bank.id}/authorise/{self.link}"

    @property
    def csrf(self) -> str:
        return csrf_token(self.config.secret, self.authorisation.link_hash, self.cookie)

    def keep_cookie(self, response: Response) -> Response:
        if self.new_cookie:
            response.set_cookie(COOKIE, self.cookie, max_age=3600, path=self.page_path, httponly=True, samesite="lax",
                                secure=self.config.secure_cookies)
        return harden(response)

    def drop_cookie(self, response: Response) -> Response:
        response.delete_cookie(COOKIE, path=self.page_path, httponly=True, samesite="lax",
                               secure=self.config.secure_cookies)
        return harden(response)


def csrf_token(secret: bytes, hashed_link: str, cookie: str) -> str:
    key = hmac.new(secret, b"sandbox-bank/csrf", hashlib.sha256).digest()
    return hmac.new(key, f"{hashed_link}|{cookie}".encode(), hashlib.sha256).hexdigest()


def browser_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def harden(response: Response) -> Response:
    """The link in the address bar is a credential: never sent on as a Referer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def message(request: Request, bank: Any | None, title: str, text: str | None, status: int) -> Response:
    context: dict[str, Any] = {"bank": bank, "title": title, "text": text}
    if bank is not None:
        context["logo_css"] = logo_css([bank])
    return harden(render(request.app.state.templates, request, "sandbox_bank_message.html", context, status=status))


async def open_visit(request: Request, config: SandboxConfig, *, posting: bool) -> Visit:
    """The authorisation behind the link, if this browser may act on it; else Stop with the page to show."""
    bank = config.bank(request.path_params["bank_id"])
    if bank is None:
        raise Stop(message(request, None, N_("This link does not work"), None, 404))
    if is_unavailable(bank):
        raise Stop(message(request, bank, N_("%(bank)s is not available right now"),
                           N_("Nothing was shared. You can try again later."), 503))
    link = request.path_params["link"]
    found = await config.db.run(store.find_authorisation, config.db, link) if _TOKEN.match(link) else None
    if found is None or found[1].bank_id != bank.id:
        raise Stop(message(request, bank, N_("This link does not work"), None, 404))
    authorisation, consent = found
    now = config.clock.now()
    if authorisation.step == "done" or consent.status_on(now.date()) != RECEIVED:  # ended here, or by the TPP or the clock
        raise Stop(finished(request, bank))
    if now > authorisation.expires_at:
        raise Stop(message(request, bank, N_("This request has expired"), AGAIN, 410))
    cookie = request.cookies.get(COOKIE, "")
    visit = Visit(request, config, bank, link, authorisation, consent, cookie)
    if authorisation.browser_hash is None and not posting:
        visit.cookie, visit.new_cookie = new_secret(), True
        if await config.db.run(store.bind_browser, config.db, authorisation.link_hash, browser_hash(visit.cookie)):
            return visit
        raise Stop(_elsewhere(request, bank))  # another browser opened it a moment ago
    if not _TOKEN.match(cookie) or authorisation.browser_hash is None or not hmac.compare_digest(
            browser_hash(cookie), authorisation.browser_hash):
        raise Stop(_elsewhere(request, bank))
    return visit


def _elsewhere(request: Request, bank: Any) -> Response:
    """The link works only in the browser that opened it first."""
    return message(request, bank, N_("This bank login was already used"), AGAIN, 403)


def finished(request: Request, bank: Any) -> Response:
    return message(request, bank, N_("This request is already finished"), None, 409)


def check_form(visit: Visit, form: FormData) -> None:
    """A post must carry the CSRF token of this link and this browser's cookie."""
    given = str(form.get("csrf", ""))
    if not hmac.compare_digest(given.encode(), visit.csrf.encode()):
        raise Stop(message(visit.request, visit.bank, N_("Link expired"), AGAIN, 403))


def see_page(visit: Visit) -> Response:
    """After a step, the page of the next one (POST-redirect-GET)."""
    return harden(Response(status_code=303, headers={"Location": visit.page_path}))


def way_back(visit: Visit, url: str) -> Response:
    """To the TPP, at exactly the URI it gave (a plain header: RedirectResponse would re-quote it)."""
    return visit.drop_cookie(Response(status_code=302, headers={"Location": url}))
