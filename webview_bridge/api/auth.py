"""The bearer guard for every JSON endpoint (PROTOCOL §2): who is calling, and may they."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request

from webview_bridge.domain.apps import App
from webview_bridge.errors import ApiError, not_found
from webview_bridge.runtime import Runtime
from webview_bridge.store import oauth_tokens

REALM = 'Bearer realm="webview-bridge"'


@dataclass(frozen=True)
class Caller:
    app: App
    scope: frozenset[str]


def _unauthorized(code: str, message: str, challenge: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def _look_up(runtime: Runtime, token: str) -> tuple[Caller | None, int | None]:
    """The caller, and the seconds it must wait when this request is over its app's limit. The
    limit is counted in the same database work as the look-up: on PostgreSQL, one hop, not two."""
    found = oauth_tokens.bearer(runtime.db, runtime.keyring.hash(token))
    if found is None:
        return None, None
    record, app = found
    now = runtime.clock.now()
    if record.revoked or record.access_expires_at <= now:
        return None, None
    wait = runtime.limiter.retry_after("api", app.id, now) if runtime.limiter else None
    return Caller(app, frozenset(record.scope.split())), wait


T = TypeVar("T")


def owned_by(found: T | None, app_id: str, what: str, code: str) -> T:
    """The object if this app owns it; anyone else's is 404, never a hint that it exists."""
    if found is None or getattr(found, "app_id") != app_id:
        raise not_found(what, code)
    return found


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(429, "rate_limited", f"too many requests; try again in {retry_after} s",
                    headers={"Retry-After": str(retry_after)})


async def require_app(request: Request, runtime: Runtime, role: str | None) -> Caller:
    """The calling app; 401 without a live access token, 403 when it lacks `role`."""
    token = bearer_token(request)
    if token is None:
        raise _unauthorized("unauthorized", "send Authorization: Bearer <access token>", REALM)
    caller, wait = await runtime.db.run(_look_up, runtime, token)
    if caller is None:
        raise _unauthorized(
            "invalid_token", "the access token is unknown, expired or revoked",
            f'{REALM}, error="invalid_token", error_description="the access token is unknown, expired or revoked"',
        )
    if wait is not None:
        raise rate_limited(wait)
    if role is not None:
        if not caller.app.has_role(role):
            raise ApiError(403, "insufficient_role", f"this endpoint is for apps with the {role} role")
        if role not in caller.scope:
            raise ApiError(403, "insufficient_scope", f"the access token's scope does not include {role}")
    request.state.app_id = caller.app.id
    return caller
