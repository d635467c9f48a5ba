"""The customer's browser session and the CSRF tokens bound to it.

The session cookie holds a random 256-bit value; the server keeps only its keyed hash (on the
consent flow it authenticated). Every form carries a CSRF token that is a MAC of the session
value and the request id, so a form from another session or another request is refused.
"""

from __future__ import annotations

import hmac
import re

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.domain.apps import is_loopback_host
from webview_bridge.errors import ApiError
from webview_bridge.ids import new_secret
from webview_bridge.web.templating import remember_language

COOKIE = "wvb_session"
# A session begun by a client-token hand-off carries this mark, so the pages of every other
# session never look a client token up. Forging the mark finds nothing; dropping it only loses
# what the hand-off gave (the bank's login skip).
HANDOFF_MARK = "c."
_VALUE = re.compile(r"^(c\.)?[A-Za-z0-9_-]{43}$")
MAX_AGE = 3600


def current_session(request: Request) -> str | None:
    """The session the browser sent (not one begun during this request)."""
    value = request.cookies.get(COOKIE, "")
    return value if _VALUE.match(value) else None


def ensure_session(request: Request) -> str:
    """The session value, made now if the browser has none; remember_session() sets the cookie."""
    value = getattr(request.state, "new_session", None) or current_session(request)
    if value is None:
        value = new_secret()
        request.state.new_session = value
    return value


def began_with_handoff(value: str) -> bool:
    return value.startswith(HANDOFF_MARK)


def remember_session(request: Request, response: Response) -> Response:
    remember_language(request, response)
    value = getattr(request.state, "new_session", None)
    if value is not None:
        response.set_cookie(
            COOKIE, value, max_age=MAX_AGE, path="/", httponly=True, samesite="lax",
            secure=not is_loopback_host(request.url.hostname),
        )
    return response


def session_hash(request: Request, value: str) -> str:
    return request.app.state.runtime.keyring.hash("session:" + value)


def csrf_token(request: Request, session: str, request_id: str) -> str:
    return request.app.state.runtime.keyring.mac("csrf", f"{session}|{request_id}")


async def check_csrf(request: Request, form_token: str | None, request_id: str) -> str:
    """The session of a genuine form post for this request; 403 otherwise, and nothing changes.
    Also where page form posts are counted against the per-session rate limit."""
    session = current_session(request)
    client = request.client.host if request.client else "unknown"
    wait = await request.app.state.runtime.over_limit("pages", session_hash(request, session) if session else f"ip:{client}")
    if wait is not None:
        raise ApiError(429, "rate_limited", "too many attempts; wait a moment", headers={"Retry-After": str(wait)})
    if session is None:
        raise ApiError(403, "session_missing", "your session has ended; open the link from the app again")
    expected = csrf_token(request, session, request_id)
    if not form_token or not hmac.compare_digest(expected, form_token):
        raise ApiError(403, "csrf_failed", "this form does not belong to your session; open the link from the app again")
    return session
