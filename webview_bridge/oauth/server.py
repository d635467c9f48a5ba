"""Authlib's AuthorizationServer adapted to Starlette: POST /oauth/token and POST /oauth/revoke.

Authlib is synchronous, so the form is read on the event loop and the rest runs in a worker
thread. Two decisions are ours, made before Authlib sees the request:
- transport (security/transport.py): plain http is accepted only by a server whose public URL
  is loopback http (development); behind a TLS-terminating proxy, set the https public URL or
  list the proxy in WEBVIEW_BRIDGE_FORWARDED_ALLOW_IPS so its X-Forwarded-Proto counts;
- client authentication (client_auth.py): one method per request, checked once, with the same
  work for an unknown app id as for a wrong secret; then the rate limit of whoever it turned out
  to be. Authlib is handed the already authenticated client.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge import logs
from webview_bridge.api.operations import ApiRoute, Operation
from webview_bridge.domain.errors import Invalid
from webview_bridge.ids import new_id, new_secret
from webview_bridge.oauth import client_auth
from webview_bridge.oauth.client_auth import Presented
from webview_bridge.oauth.grants import ClientCredentialsWithRefresh, Revocation, RotatingRefreshTokenGrant
from webview_bridge.oauth.models import AUTH_METHODS, OAuthClient
from webview_bridge.runtime import Runtime
from webview_bridge.security.transport import plain_http_refused
from webview_bridge.store import apps as app_store
from webview_bridge.store import oauth_tokens
from webview_bridge.store.oauth_tokens import NewPair, TokenRecord

SCOPES = ["tpp", "bank"]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class FormRequest:
    method: str
    uri: str
    headers: dict[str, str]
    form: dict[str, str]
    credentials: Presented = Presented(None, "", "")
    authenticated: OAuthClient | None = None  # set once the credentials have verified


class _OAuth2Request(OAuth2Request):
    def __init__(self, request: FormRequest) -> None:
        super().__init__(request.method, request.uri, headers=request.headers)
        self.payload = BasicOAuth2Payload(request.form)
        self._form = request.form
        self.credentials = request.credentials
        self.authenticated = request.authenticated

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class BridgeAuthorizationServer(AuthorizationServer):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(scopes_supported=SCOPES)
        self.runtime = runtime
        settings = runtime.settings
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: new_secret(),
                refresh_token_generator=lambda **_: new_secret(),
                expires_generator=lambda client, grant_type: settings.access_token_ttl_seconds,
            ),
        )
        self.register_grant(ClientCredentialsWithRefresh)
        self.register_grant(RotatingRefreshTokenGrant)
        self.register_endpoint(Revocation)
        for method in AUTH_METHODS:
            self.register_client_auth_method(method, _already_authenticated(method))

    # --- client authentication and rate limits, before Authlib --------------------------------

    def authenticate(self, credentials: Presented) -> OAuthClient | None:
        """The app the credentials name, if they verify. A request without credentials (an empty
        id and secret) does the same work as any other failure."""
        app = app_store.authenticate_client(self.runtime.db, self.runtime.keyring, credentials.client_id,
                                            credentials.client_secret)
        return OAuthClient(app) if app is not None else None

    def respond(self, endpoint: str | None, form_request: FormRequest, client_address: str) -> JSONResponse:
        """Authenticate, count the request against whoever that turned out to be, then let
        Authlib answer (`endpoint` None: the token endpoint)."""
        client = self.authenticate(form_request.credentials)
        kind, key = client_auth.budget(form_request.credentials, client.app.id if client else None, client_address)
        wait = self._over_limit(kind, key)
        if wait is not None:
            response = _oauth_error(429, "temporarily_unavailable", f"too many requests; try again in {wait} s")
            response.headers["Retry-After"] = str(wait)
            return response
        form_request = replace(form_request, authenticated=client)
        if endpoint is None:
            return self.create_token_response(form_request)
        return self.create_endpoint_response(endpoint, form_request)

    def _over_limit(self, kind: str, key: str) -> int | None:
        limiter = self.runtime.limiter
        if limiter is None:
            return None
        failures = self.runtime.settings.rate_limit_token_failures
        return limiter.retry_after(kind, key, self.runtime.clock.now(),
                                   limit=failures if kind == client_auth.FAILURE_BUDGET else None)

    # --- Authlib's hooks ---------------------------------------------------------------------

    def query_client(self, client_id: str) -> OAuthClient:
        raise NotImplementedError("clients are authenticated before Authlib runs (respond)")

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        raise NotImplementedError("tokens are saved by our grants, atomically")

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: FormRequest) -> OAuth2Request:
        return _OAuth2Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON OAuth endpoints")

    def handle_response(self, status: int, body: Any, headers: Any) -> JSONResponse:
        return JSONResponse(dict(body), status_code=status, headers={**dict(headers), **NO_STORE})

    # --- token families ----------------------------------------------------------------------

    def new_pair(self, token: dict[str, Any], app_id: str, family_id: str) -> NewPair:
        now = self.runtime.clock.now()
        settings = self.runtime.settings
        return NewPair(
            app_id=app_id,
            family_id=family_id,
            scope=token.get("scope") or "",
            access_token_hash=self.runtime.keyring.hash(token["access_token"]),
            refresh_token_hash=self.runtime.keyring.hash(token["refresh_token"]),
            issued_at=now,
            access_expires_at=now + timedelta(seconds=settings.access_token_ttl_seconds),
            refresh_expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )

    def save_new_family(self, token: dict[str, Any], client: OAuthClient) -> None:
        oauth_tokens.save(self.runtime.db, self.new_pair(token, client.app.id, new_id("fam")))

    def revoke_family(self, record: TokenRecord, reason: str) -> None:
        oauth_tokens.revoke_family(self.runtime.db, record.family_id)
        logs.event("token family revoked", app_id=record.app_id, family_id=record.family_id, reason=reason)


def _already_authenticated(method: str) -> Any:
    """Authlib's client authentication for `method`: the client our own check verified, if the
    request used that method."""

    def authenticate(query_client: Any, request: _OAuth2Request) -> OAuthClient | None:
        return request.authenticated if request.credentials.method == method else None

    return authenticate


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=NO_STORE)


# RFC 6749 §5.2: bad client credentials are 401, every other malformed request 400.
_STATUS = {"invalid_client": 401}


async def _form_request(request: Request, runtime: Runtime) -> FormRequest | JSONResponse:
    """Everything Authlib must not trip over is answered here as an RFC 6749 §5.2 error."""
    settings = runtime.settings
    if plain_http_refused(settings.base_url, request.scope["scheme"]):
        return _oauth_error(400, "invalid_request", "HTTPS is required")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "send the body as application/x-www-form-urlencoded")
    try:
        items = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the body is not UTF-8")
    form: dict[str, str] = {}
    for name, value in items:
        if "\x00" in name or "\x00" in value:  # no OAuth parameter holds one (RFC 6749 Appendix A)
            return _oauth_error(400, "invalid_request", f"{name!r} contains a NUL character")
        if name in form:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
            return _oauth_error(400, "invalid_request", f"{name} is given more than once")
        form[name] = value
    try:
        credentials = client_auth.presented(request.headers.get("authorization", ""), form)
    except Invalid as refusal:
        return _oauth_error(_STATUS.get(refusal.code, 400), refusal.code, refusal.message)
    headers = {k.title(): v for k, v in request.headers.items()}
    # Transport was decided above; Authlib's own check (which reads the Host) is handed an https URI.
    uri = f"https://{urlsplit(settings.base_url).netloc}{request.scope['path']}"
    return FormRequest(request.method, uri, headers, form, credentials)


def _server(runtime: Runtime) -> BridgeAuthorizationServer:
    assert runtime.oauth_server is not None, "create_app makes it"
    return runtime.oauth_server


def _client_address(request: Request) -> str:
    # uvicorn puts a trusted proxy's X-Forwarded-For here, and only a trusted one's.
    return request.client.host if request.client else ""


async def token(request: Request, runtime: Runtime) -> JSONResponse:
    form_request = await _form_request(request, runtime)
    if isinstance(form_request, JSONResponse):
        return form_request
    if not form_request.form.get("grant_type"):
        return _oauth_error(400, "invalid_request", "grant_type is required")
    return await runtime.db.run(_server(runtime).respond, None, form_request, _client_address(request))


async def revoke(request: Request, runtime: Runtime) -> JSONResponse:
    """RFC 7009; shares the token endpoint's rate limits (PROTOCOL §1)."""
    form_request = await _form_request(request, runtime)
    if isinstance(form_request, JSONResponse):
        return form_request
    return await runtime.db.run(
        _server(runtime).respond, "revocation", form_request, _client_address(request))


class TokenForm(BaseModel):
    grant_type: str
    scope: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class RevocationForm(BaseModel):
    token: str
    token_type_hint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str


routes = [
    ApiRoute("/oauth/token", token, methods=["POST"], name="oauth_token", operation=Operation(
        "Backend access token: client_credentials or refresh_token (RFC 6749)",
        form_body=TokenForm, responses={200: TokenResponse}, tags=["oauth"])),
    ApiRoute("/oauth/revoke", revoke, methods=["POST"], name="oauth_revoke", operation=Operation(
        "Revoke an access or refresh token (RFC 7009)", form_body=RevocationForm, responses={200: None}, tags=["oauth"])),
]
