"""The page renderer, shared by the server's screens and the TPP helper's: built-in templates, overridable by name from the operator's folder, with
the security headers of PROTOCOL §6 on every page."""

from __future__ import annotations

import gettext
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from webview_bridge import i18n
from webview_bridge.i18n import N_
from webview_bridge.routing import path_for

if TYPE_CHECKING:  # for the annotations only: the TPP helper renders its pages without the server's banks
    from webview_bridge.banks.directory import Bank
    from webview_bridge.banks.model import Account
from webview_bridge.resources import STATIC_DIR, TEMPLATES_DIR

# Page paths answer errors with a page; everything else answers JSON.
PAGE_PREFIXES = ("/app/", "/demo", "/sandbox-bank/")


def is_page_path(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


def make_templates(override_dir: Path | None) -> Jinja2Templates:
    folders = [str(override_dir)] if override_dir else []
    loader = jinja2.FileSystemLoader([*folders, str(TEMPLATES_DIR)])
    env = jinja2.Environment(
        loader=loader, autoescape=jinja2.select_autoescape(["html"]), auto_reload=False,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals["path_for"] = _path_for
    # Inlined under the page's CSP nonce: a cold WebView then needs one round trip per screen, not three.
    env.globals.update(
        inline_css=Markup((STATIC_DIR / "app.css").read_text(encoding="utf-8")),
        inline_js=Markup((STATIC_DIR / "bridge.js").read_text(encoding="utf-8")),
    )
    return Jinja2Templates(env=env)


@jinja2.pass_context
def _path_for(context: Any, name: str, /, **params: Any) -> str:
    """`path_for(name, **params)` in a template: a named route's path (every page has `request`)."""
    return path_for(context["request"], name, **params)


@dataclass(frozen=True)
class Language:
    """What a page needs to speak one language: its words, dates, countries and direction."""

    code: str

    @cached_property
    def translations(self) -> gettext.NullTranslations:
        return i18n.translations(self.code)

    def gettext(self, message: str, **variables: Any) -> str:
        # As Jinja's newstyle gettext: the translation is trusted, the variables are escaped.
        translated = Markup(self.translations.gettext(message))
        return translated % variables if variables else translated

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        translated = Markup(self.translations.ngettext(singular, plural, n))
        return translated % {"num": n, **variables}

    def format_date(self, moment: datetime) -> str:
        return format_date(moment.date(), format="long", locale=self.code)

    def format_money(self, value: str | Decimal, currency: str) -> str:
        """1234.5 GBP → "£1,234.50" in English, "1.234,50 £" in German (CLDR)."""
        return format_currency(Decimal(value), currency, locale=self.code)

    @cached_property
    def country_names(self) -> dict[str, str]:
        return dict(Locale.parse(self.code).territories)

    def account_line(self, account: Account) -> str:
        """What tells two accounts apart at a glance: their kind, currency and last digits."""
        parts = [self.translations.gettext(_ACCOUNT_TYPES.get(account.type, _ACCOUNT_TYPES["OTHER"])), account.currency]
        if account.details is not None:
            digits = "".join(ch for ch in account.details.identifier if ch.isdigit())
            if digits:
                parts.append("•••• " + digits[-4:])
        return " · ".join(parts)

    def lang_attr(self, text_language: str | None) -> Markup:
        """` lang="…"` for text in another language than the page's (screen readers switch voice)."""
        if not text_language or text_language.split("-")[0] == self.code:
            return Markup("")
        return Markup(' lang="%s"') % text_language

    def context(self) -> dict[str, Any]:
        return {"lang": self.code, "text_direction": i18n.direction(self.code), "_": self.gettext,
                "gettext": self.gettext, "ngettext": self.ngettext, "format_date": self.format_date,
                "format_money": self.format_money,
                "country_names": self.country_names, "account_line": self.account_line, "lang_attr": self.lang_attr}


@cache
def language(code: str) -> Language:
    return Language(code)


def remember_language(request: Request, response: Response) -> Response:
    """A ?lang= holds for the rest of the flow, redirects and the bank's page included."""
    chosen = i18n.supported(request.query_params.get("lang"))
    if chosen and request.cookies.get(i18n.COOKIE) != chosen:
        response.set_cookie(i18n.COOKIE, chosen, max_age=3600, path="/", httponly=True, samesite="lax")
    return response


def page_language(request: Request) -> Language:
    """?lang=, else the cookie a ?lang= set earlier in the flow, else Accept-Language, else English."""
    cached = getattr(request.state, "language", None)
    if cached is None:
        cached = language(i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE),
                                      request.headers.get("accept-language", "")))
        request.state.language = cached
    return cached


_ACCOUNT_TYPES = {"CHECKING": N_("Current account"), "SAVINGS": N_("Savings"), "CARD": N_("Card"), "LOAN": N_("Loan"),
                  "OTHER": N_("Account")}


def logo_css(banks: Iterable[Bank]) -> Markup:
    """Each bank monogram's colour, for the page's nonce'd style block (no inline style attributes)."""
    return Markup("".join(f".l-{b.id}{{background:{b.colour};color:{b.monogram_text}}}" for b in banks))


def content_security_policy(nonce: str, embed_origin: str | None) -> str:
    """Names no other origin, except the one app that may frame the pages (--embed-origin)."""
    return "; ".join([
        "default-src 'self'",
        "img-src 'self' data:",
        f"style-src 'self' 'nonce-{nonce}'",
        f"script-src 'self' 'nonce-{nonce}'",
        "base-uri 'none'",
        "object-src 'none'",
        f"frame-ancestors {embed_origin}" if embed_origin else "frame-ancestors 'none'",
    ])


def render(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    embed_origin: str | None = None,
) -> Response:
    nonce = secrets.token_urlsafe(16)
    speaks = page_language(request)
    response = templates.TemplateResponse(
        request, name, {"csp_nonce": nonce, **speaks.context(), **(context or {})}, status_code=status
    )
    remember_language(request, response)
    response.headers["Content-Security-Policy"] = content_security_policy(nonce, embed_origin)
    if not embed_origin:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response
