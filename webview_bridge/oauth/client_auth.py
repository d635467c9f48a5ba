"""Client authentication at /oauth/token and /oauth/revoke (RFC 6749 §2.3; PROTOCOL §1, §2):
which credentials a request presents, and whose rate-limit budget it spends.

Plain rules over plain values: the handler reads the header and the form, the server looks the
app up, and these decide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from webview_bridge.domain.errors import Invalid

BASIC = "client_secret_basic"
POST = "client_secret_post"
# Budgets (rate-limit kinds): an authenticated app's own, and the failures of one app id from one address.
APP_BUDGET = "token"
FAILURE_BUDGET = "token_failures"
# Limiter keys are stored (rate_counters.bucket, 120 characters): a made-up id or a proxy's odd
# address longer than these is keyed by a digest of it instead.
_MAX_ADDRESS, _MAX_ID = 45, 48


@dataclass(frozen=True)
class Presented:
    """The credentials a request carries; `method` None when it carries none."""

    method: str | None
    client_id: str
    client_secret: str


def presented(authorization: str, form: Mapping[str, str]) -> Presented:
    """The one set of client credentials in a request.

    Raises Invalid("invalid_client") for Basic credentials that cannot be read, and
    Invalid("invalid_request") for Basic credentials holding a NUL character or a request using
    HTTP Basic and body credentials at once (RFC 6749 §2.3: one method per request), whichever
    apps they name.
    """
    scheme, _, encoded = authorization.strip().partition(" ")
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    if scheme.lower() != "basic":
        if body_id is None and body_secret is None:
            return Presented(None, "", "")
        return Presented(POST, body_id or "", body_secret or "")
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Invalid("invalid_client", "the Basic credentials are not valid base64 of UTF-8") from None
    # RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encodes them. Decoded here,
    # once, so the app id that is authenticated is the one that is rate-limited.
    client_id, client_secret = unquote_plus(user), unquote_plus(password)
    if "\x00" in client_id or "\x00" in client_secret:  # RFC 6749 Appendix A: printable characters only
        raise Invalid("invalid_request", "the Basic credentials contain a NUL character")
    # A body client_id naming the same app is what many clients add anyway; anything more is a second method.
    if body_secret is not None or (body_id is not None and body_id != client_id):
        raise Invalid("invalid_request",
                      "use one client authentication method: HTTP Basic, or client_id and client_secret in the body")
    return Presented(BASIC, client_id, client_secret)


def budget(credentials: Presented, authenticated_app_id: str | None, client_address: str) -> tuple[str, str]:
    """(kind, key) of the rate limit a request counts against.

    Credentials that verify spend only their own app's budget, so nobody else's failures can
    refuse them; failures are counted apart, per app id as presented (decoded) and client address,
    so whoever merely knows an app id cannot block that app.
    """
    if authenticated_app_id is not None:
        return APP_BUDGET, authenticated_app_id
    return FAILURE_BUDGET, f"{_bounded(client_address, _MAX_ADDRESS)}|{_bounded(credentials.client_id, _MAX_ID)}"


def _bounded(value: str, size: int) -> str:
    return value if len(value) <= size else "#" + hashlib.sha256(value.encode()).hexdigest()[:size - 1]
