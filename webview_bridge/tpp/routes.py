"""Mountable start / callback / status endpoints for the TPP's own backend (PROTOCOL §9).

    from webview_bridge.tpp import TppConfig, tpp_app
    app.mount("/bank-link", tpp_app(TppConfig(...)))    # Starlette or FastAPI

- GET {prefix}/start    stores a token request with a fresh CSRF token (kept in an HttpOnly
                        cookie) and answers 302 to the consent URL carrying the request id.
- GET {prefix}/callback verifies the signed state (signature, age, app_id, CSRF hash against the
                        cookie, single use), reads the result, tells `on_linked`, then 302s to
                        the app's return URL or shows a done page that emits EXIT.
- GET {prefix}/status   the outcome, for an app whose flow finished outside its WebView.
- POST {prefix}/webhooks verifies the server's webhooks (Standard Webhooks) and hands each event
                        once to `on_event`.

Single use is per request id, not per spelling of the state: a state can be written several ways
(base64's spare bits) and the server signs a fresh one for the same outcome, and each of those
must not tell `on_linked` twice. The helper's public URL is its registered callback's
(`redirect_url`): it, and a trusted proxy's X-Forwarded-Proto, decide whether cookies are Secure.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from itsdangerous import BadSignature, SignatureExpired
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from webview_bridge.domain.redirects import tpp_redirect
from webview_bridge.i18n import N_
from webview_bridge.security.callback_state import DEFAULT_MAX_AGE, verify_callback_state
from webview_bridge.security.transport import cookie_secure
from webview_bridge.tpp._core import BridgeError
from webview_bridge.tpp.client import AsyncBridgeClient
from webview_bridge.rendering import make_templates, render

CSRF_COOKIE = "wvb_tpp_csrf_"
# PROTOCOL §1: ids are a prefix and URL-safe characters.
REQUEST_ID = re.compile(r"rq_[A-Za-z0-9_-]{1,128}")
# How long a request id stays used: a state can be signed until the request expires (20 minutes,
# PROTOCOL §5: a finished request's page hands out fresh ones) and verifies for max_age after that.
REQUEST_LIFETIME_SECONDS = 20 * 60


@dataclass(frozen=True)
class LinkResult:
    """What `on_linked` hears: a token id, or the error that ended the flow."""

    request_id: str
    token_id: str | None
    error: str | None
    callback_state: str | None
    replaces_token_id: str | None = None  # a renewal: this token was replaced by token_id


class ReplayGuard(Protocol):
    def first_use(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is seen within ttl; share one across instances (e.g. Redis SET NX)."""
        ...


class MemoryReplayGuard:
    """Single use within one process; give TppConfig a shared guard when running several."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, key: str, ttl_seconds: int) -> bool:
        now = time.monotonic()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
            if key in self._seen:
                return False
            self._seen[key] = now + ttl_seconds
            return True


@dataclass
class TppConfig:
    server_url: str
    app_id: str
    app_secret: str
    callback_secrets: Sequence[str]  # oldest first; any of them verifies
    redirect_url: str  # registered with `apps create --redirect-url`: where {prefix}/callback is reached
    on_linked: Callable[[LinkResult, Request], Awaitable[None] | None] | None = None
    return_url: str | None = None  # a deep link into the app; None shows a done page that emits EXIT
    resources: Sequence[str] = ("ACCOUNTS", "BALANCES", "TRANSACTIONS")
    request_fields: dict[str, Any] = field(default_factory=dict)  # more POST /token-requests fields
    max_age: int = DEFAULT_MAX_AGE
    replay_guard: ReplayGuard = field(default_factory=MemoryReplayGuard)
    client: AsyncBridgeClient | None = None
    # {prefix}/webhooks: the secrets of the app's endpoints (any verifies) and the hook that hears
    # each event once. Without secrets the endpoint does not exist.
    webhook_secrets: Sequence[str] = ()
    on_event: Callable[[dict[str, Any], Request], Awaitable[None] | None] | None = None
    # May this visitor renew this token (re-consent, `{prefix}/start?replaces_token_id=`)? Only the
    # TPP knows whose token it is; without this hook renewals are refused.
    may_renew: Callable[[str, Request], bool] | None = None

    def bridge(self) -> AsyncBridgeClient:
        if self.client is None:
            self.client = AsyncBridgeClient(self.server_url, self.app_id, self.app_secret)
        return self.client


def _config(request: Request) -> TppConfig:
    return request.app.state.tpp_config


def _problem(request: Request, status: int, title: str, text: str) -> Response:
    response = render(request.app.state.templates, request, "tpp_problem.html", {
        "title": title, "text": text, "event": "ERROR", "event_data": {"code": title}}, status=status)
    return response


async def start(request: Request) -> Response:
    config = _config(request)
    csrf_token = secrets.token_urlsafe(32)
    fields = {"resources": list(config.resources), "redirect_url": config.redirect_url,
              "ref_id": request.query_params.get("ref_id") or secrets.token_hex(8),
              "csrf_token": csrf_token, **config.request_fields}
    if request.query_params.get("bank_id"):
        fields["bank_id"] = request.query_params["bank_id"]
    renewed = request.query_params.get("replaces_token_id")
    if renewed:
        if config.may_renew is None or not config.may_renew(renewed, request):
            return _problem(request, 403, N_("Could not start"), N_("This access cannot be renewed from here."))
        fields["replaces_token_id"] = renewed
    try:
        created = await config.bridge().store_token_request(**fields)
    except BridgeError:
        return _problem(request, 502, N_("Could not start"), N_("The bank link service refused to start."))
    response = RedirectResponse(created.url, status_code=302)
    response.set_cookie(
        CSRF_COOKIE + created.token_request.id, csrf_token, max_age=20 * 60, httponly=True, samesite="lax",
        secure=cookie_secure(config.redirect_url, request.scope["scheme"]), path=request.scope.get("root_path", "") + "/",
    )
    return response


async def callback(request: Request) -> Response:
    config = _config(request)
    params = request.query_params
    request_id, state = params.get("request-id", ""), params.get("state", "")
    try:
        payload = verify_callback_state(config.callback_secrets, state, max_age=config.max_age)
    except SignatureExpired:
        return _problem(request, 403, N_("Link expired"), N_("This answer from the bank link is too old. Start again."))
    except BadSignature:
        return _problem(request, 400, N_("Invalid answer"), N_("This answer was not signed by the bank link service."))
    if (not isinstance(payload, dict) or payload.get("app_id") != config.app_id or payload.get("request_id") != request_id
            or payload.get("token_id") != (params.get("token-id") or None) or payload.get("error") != (params.get("error") or None)):
        return _problem(request, 400, N_("Invalid answer"), N_("This answer does not belong to this app."))
    cookie_name = CSRF_COOKIE + request_id
    csrf_token = request.cookies.get(cookie_name)
    if not csrf_token:
        return _problem(request, 403, N_("Session not found"),
                        N_("This browser did not start this link (or its cookie expired). The app will learn the outcome by itself."))
    if not hmac.compare_digest(hashlib.sha256(csrf_token.encode()).hexdigest(), str(payload.get("csrf_token_hash"))):
        return _problem(request, 403, N_("Session mismatch"), N_("This answer belongs to another session."))
    if not config.replay_guard.first_use("request:" + request_id, REQUEST_LIFETIME_SECONDS + config.max_age):
        return _problem(request, 403, N_("Already used"), N_("This answer was already used."))
    token_id, error = payload.get("token_id"), payload.get("error")
    if token_id:  # trust, but confirm with the server that the request ended with this token
        try:
            outcome = await config.bridge().get_token_request_result(request_id)
        except BridgeError:
            return _problem(request, 502, N_("Could not confirm"), N_("The bank link service did not confirm the outcome."))
        if outcome.status != "PROCESSED" or outcome.token_id != token_id:
            return _problem(request, 400, N_("Invalid answer"), N_("The bank link service does not confirm this token."))
    result = LinkResult(request_id, token_id, error, payload.get("callback_state"), payload.get("replaces_token_id"))
    if config.on_linked is not None:
        done = config.on_linked(result, request)
        if inspect.isawaitable(done):
            await done
    if config.return_url:
        response: Response = RedirectResponse(tpp_redirect(config.return_url, {
            "request-id": request_id, "token-id": token_id, "error": error}), status_code=302)
    else:
        response = render(request.app.state.templates, request, "tpp_done.html", {
            "result": result, "event": "EXIT", "event_data": {"token_id": token_id, "error": error}})
    response.delete_cookie(cookie_name, path=request.scope.get("root_path", "") + "/")
    return response


async def status(request: Request) -> Response:
    request_id = request.query_params.get("request-id", "")
    if not request_id:
        return JSONResponse({"error": {"code": "missing_field", "message": "request-id is required", "field": "request-id"}},
                            status_code=400)
    if not REQUEST_ID.fullmatch(request_id):
        return JSONResponse({"error": {"code": "invalid_value", "message": "request-id must be rq_ and URL-safe characters",
                                       "field": "request-id"}}, status_code=400)
    try:
        outcome = await _config(request).bridge().get_token_request_result(request_id)
    except BridgeError as error:
        return JSONResponse({"error": {"code": error.code, "message": error.message}}, status_code=error.status or 502)
    return JSONResponse(outcome.model_dump(mode="json", exclude_none=True))


# Retries of one event keep its id for up to a day: single use must outlast them.
EVENT_REPLAY_SECONDS = 2 * 24 * 3600


async def webhooks(request: Request) -> Response:
    """POST {prefix}/webhooks: verify a delivery the Standard Webhooks way, hand each event to
    `on_event` once (retries carry the same id), and answer 204 so the server stops retrying."""
    config = _config(request)
    if not config.webhook_secrets:
        return Response(status_code=404)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    event = None
    for secret in config.webhook_secrets:
        try:
            event = StandardWebhook(secret).verify(body, headers)
            break
        except WebhookVerificationError:
            continue
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        return JSONResponse({"error": {"code": "invalid_signature", "message": "this delivery does not verify"}},
                            status_code=400)
    if config.replay_guard.first_use("event:" + event["id"], EVENT_REPLAY_SECONDS) and config.on_event is not None:
        done = config.on_event(event, request)
        if inspect.isawaitable(done):
            await done
    return Response(status_code=204)


def tpp_app(config: TppConfig, templates_dir: Any = None, extra_routes: Sequence[Route] = ()) -> Starlette:
    """A small Starlette app to mount at any prefix of the TPP's own app."""
    app = Starlette(routes=[
        *extra_routes,
        Route("/start", start, methods=["GET"]),
        Route("/callback", callback, methods=["GET"]),
        Route("/status", status, methods=["GET"]),
        Route("/webhooks", webhooks, methods=["POST"]),
    ])
    app.state.tpp_config = config
    app.state.templates = make_templates(templates_dir)
    return app
