"""The customer's browser session and the CSRF tokens bound to it (PROTOCOL §6).

The session cookie holds a random 256-bit value the server issued; the server keeps only its
keyed hash. A value it did not issue, or no longer knows, is never adopted: the browser gets a new
one. When the bank's return is accepted the session is renewed — new value, old one dead — before
anything personal is shown. Every form carries a CSRF token that is a MAC of the session value and
the request id, so a form from another session or another request is refused.

The cookie is `__Host-wvb_session` (Secure, host-only, path /) when the public URL is https, and
`wvb_session` on a plain-http development server; https is decided by the configured public URL,
never by the Host header.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.errors import ApiError
from webview_bridge.ids import new_secret
from webview_bridge.runtime import Runtime
from webview_bridge.security.transport import cookie_secure, is_https
from webview_bridge.store import sessions
from webview_bridge.store.flows import SESSION_LIFETIME
from webview_bridge.rendering import remember_language

COOKIE = "wvb_session"
SECURE_COOKIE = "__Host-wvb_session"
_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def cookie_name(runtime: Runtime) -> str:
    return SECURE_COOKIE if is_https(runtime.settings.base_url, "") else COOKIE


def sent_session(request: Request, runtime: Runtime) -> str | None:
    """The session value the browser sent, if it is well formed (whether we know it is for the store to say)."""
    value = request.cookies.get(cookie_name(runtime), "")
    return value if _VALUE.match(value) else None


def session_hash(runtime: Runtime, value: str) -> str:
    return runtime.keyring.hash("session:" + value)


def current_session(request: Request, runtime: Runtime) -> str | None:
    """The session this request acts as: one issued during it, else the one the browser sent."""
    return getattr(request.state, "new_session", None) or sent_session(request, runtime)


async def issue_session(request: Request, runtime: Runtime, client_token_id: str | None = None) -> str:
    """A new session for this browser (remember_session() sets its cookie)."""
    value = new_secret()
    await runtime.db.run(sessions.issue, runtime.db, runtime.clock, session_hash(runtime, value), client_token_id)
    request.state.new_session = value
    return value


async def renew_session(request: Request, runtime: Runtime) -> str:
    """Replace the browser's session by a new one (the old one dies); a hand-off carries over."""
    old = current_session(request, runtime)
    value = new_secret()
    await runtime.db.run(sessions.renew, runtime.db, runtime.clock, session_hash(runtime, old) if old else None,
                         session_hash(runtime, value))
    request.state.new_session = value
    return value


def remember_session(request: Request, runtime: Runtime, response: Response) -> Response:
    remember_language(request, response)
    value = getattr(request.state, "new_session", None)
    if value is not None:
        response.set_cookie(cookie_name(runtime), value, max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
                            httponly=True, samesite="lax",
                            secure=cookie_secure(runtime.settings.base_url, request.scope.get("scheme", "http")))
    return response


def csrf_token(runtime: Runtime, session: str, request_id: str) -> str:
    return runtime.keyring.mac("csrf", f"{session}|{request_id}")


async def check_csrf(request: Request, runtime: Runtime, form_token: object, request_id: str, session_known: bool) -> str:
    """The session of a genuine form post for this request; 403 otherwise, and nothing changes.
    Also where page form posts are counted against the per-session rate limit."""
    session = sent_session(request, runtime)
    client = request.client.host if request.client else "unknown"
    # A trusted proxy may send a long address: a digest keeps every key the size of the counter's column.
    limit_key = session_hash(runtime, session) if session else "ip:" + hashlib.sha256(client.encode()).hexdigest()
    wait = await runtime.over_limit("pages", limit_key)
    if wait is not None:
        raise ApiError(429, "rate_limited", "too many attempts; wait a moment", headers={"Retry-After": str(wait)})
    if session is None or not session_known:
        raise ApiError(403, "session_missing", "your session has ended; open the link from the app again")
    expected = csrf_token(runtime, session, request_id)
    if not isinstance(form_token, str) or not hmac.compare_digest(expected, form_token):
        raise ApiError(403, "csrf_failed", "this form does not belong to your session; open the link from the app again")
    return session
