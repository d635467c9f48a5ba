"""AIS consents: POST /v1/consents, GET /v1/consents/{consentId} (+ /status), DELETE.

Only the redirect SCA approach: the answer's scaRedirect opens the bank's own pages (pages/),
where the customer logs in and ticks the accounts; the bank then sends them back to
TPP-Redirect-URI exactly as given.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.responses import JSONResponse, Response

from webview_bridge.sandbox_bank import store
from webview_bridge.sandbox_bank.api.access import find_consent, granted_accounts
from webview_bridge.sandbox_bank.api.http import Call
from webview_bridge.sandbox_bank.consents import after_delete, granted_access, parse_consent_request
from webview_bridge.sandbox_bank.errors import Refusal

AUTHORISATION_LIFETIME = timedelta(minutes=30)  # how long the scaRedirect link can be used
BRAND_LIMIT = 140
_NOT_FOLLOWED = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PSU_ID_HEADER = "Sandbox-PSU-ID"  # who authorised; not in the file, which allows further headers


def redirect_uri(call: Call, header: str, *, required: bool) -> str | None:
    """An absolute URI the bank will send the browser to: https, http, or an app's own scheme."""
    value = call.header(header)
    if value is None:
        if required:
            raise Refusal("FORMAT_ERROR", f"{header} is required: this bank authorises by redirect only", header)
        return None
    parts = urlsplit(value)
    if not parts.scheme or parts.scheme.lower() in _NOT_FOLLOWED or _CONTROL.search(value) or " " in value or len(value) > 2000:
        raise Refusal("FORMAT_ERROR", f"{header} must be an absolute URI the browser can be sent to", header)
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        raise Refusal("FORMAT_ERROR", f"{header} must name a host", header)
    return value


def brand(call: Call) -> str | None:
    """TPP-Brand-Logging-Information: the TPP's app, percent-encoded UTF-8, shown on the consent page."""
    raw = call.header("TPP-Brand-Logging-Information")
    if raw is None:
        return None
    decoded = _CONTROL.sub("", unquote(raw, errors="replace")).strip()
    return decoded[:BRAND_LIMIT] or None


async def create(call: Call) -> Response:
    request = parse_consent_request(call.json, call.today)
    if call.psu_ip_address is None:
        raise Refusal("FORMAT_ERROR", "PSU-IP-Address is required", "PSU-IP-Address")
    redirect = redirect_uri(call, "TPP-Redirect-URI", required=True)
    nok = redirect_uri(call, "TPP-Nok-Redirect-URI", required=False)
    db = call.config.db
    consent_id, link = await db.run(lambda: store.create_consent(
        db, bank_id=call.bank.id, request=request, redirect_uri=redirect or "", nok_redirect_uri=nok,
        tpp_brand=brand(call), now=call.now, authorisation_expires_at=call.now + AUTHORISATION_LIFETIME))
    self_href = call.link(f"/v1/consents/{consent_id}")
    return JSONResponse({
        "consentStatus": "received",
        "consentId": consent_id,
        "_links": {
            "scaRedirect": {"href": call.link(f"/authorise/{link}")},
            "self": {"href": self_href},
            "status": {"href": f"{self_href}/status"},
        },
    }, status_code=201, headers={"Location": self_href, "ASPSP-SCA-Approach": "REDIRECT"})


async def read(call: Call) -> Response:
    consent = await find_consent(call, call.request.path_params["consent_id"], path="consentId")
    access: dict[str, Any] = consent.access
    links: dict[str, Any] = {}
    if consent.accounts:
        accounts = granted_accounts(call, consent, cards=False)
        cards = granted_accounts(call, consent, cards=True)
        access = granted_access(consent.access, accounts + cards)
        if accounts:
            links["account"] = {"href": call.link("/v1/accounts")}
        if cards:
            links["card-account"] = {"href": call.link("/v1/card-accounts")}
    body: dict[str, Any] = {
        "access": access,
        "recurringIndicator": consent.recurring,
        "validUntil": consent.valid_until.isoformat(),
        "frequencyPerDay": consent.frequency_per_day,
        "lastActionDate": consent.last_action_date(call.today).isoformat(),
        "consentStatus": consent.status_on(call.today),
    }
    if links:
        body["_links"] = links
    headers = {PSU_ID_HEADER: consent.psu_id} if consent.psu_id else None
    return JSONResponse(body, headers=headers)


async def status(call: Call) -> Response:
    consent = await find_consent(call, call.request.path_params["consent_id"], path="consentId")
    return JSONResponse({"consentStatus": consent.status_on(call.today)})


async def delete(call: Call) -> Response:
    db = call.config.db
    ended = await db.run(store.change_status, db, call.bank.id, call.request.path_params["consent_id"], after_delete,
                         call.today, call.now)
    if ended is None:
        raise Refusal("CONSENT_UNKNOWN", "no such consent at this bank", "consentId")
    return Response(status_code=204)
