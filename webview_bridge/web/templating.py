"""The page renderer: built-in templates, overridable by name from the operator's folder, with
the security headers of PROTOCOL §6 on every page."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from babel import Locale
from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from webview_bridge.banks.connector import Account
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
    env.globals.update(country_names=Locale("en").territories, format_date=_format_date, account_line=account_line)
    # Inlined under the page's CSP nonce: a cold WebView then needs one round trip per screen, not three.
    env.globals.update(
        inline_css=Markup((STATIC_DIR / "app.css").read_text(encoding="utf-8")),
        inline_js=Markup((STATIC_DIR / "bridge.js").read_text(encoding="utf-8")),
    )
    return Jinja2Templates(env=env)


def _format_date(moment: datetime) -> str:
    return format_date(moment.date(), format="long", locale="en")


_ACCOUNT_TYPES = {"CHECKING": "Current account", "SAVINGS": "Savings", "CARD": "Card", "LOAN": "Loan", "OTHER": "Account"}


def account_line(account: Account) -> str:
    """What tells two accounts apart at a glance: their kind, currency and last digits."""
    parts = [_ACCOUNT_TYPES.get(account.type, "Account"), account.currency]
    if account.details is not None:
        digits = "".join(ch for ch in account.details.identifier if ch.isdigit())
        if digits:
            parts.append("•••• " + digits[-4:])
    return " · ".join(parts)


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
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    embed_origin: str | None = None,
) -> Response:
    nonce = secrets.token_urlsafe(16)
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request, name, {"csp_nonce": nonce, "lang": "en", **(context or {})}, status_code=status
    )
    response.headers["Content-Security-Policy"] = content_security_policy(nonce, embed_origin)
    if not embed_origin:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response
