"""Authlib's AuthorizationServer adapted to Starlette: POST /oauth/token and POST /oauth/revoke.

Authlib is synchronous, so the form is read on the event loop and the rest runs in a worker
thread. Transport policy is ours, decided before Authlib sees the request: plain http is
accepted only on a loopback host (development); behind a TLS-terminating proxy, list the proxy
in WEBVIEW_BRIDGE_FORWARDED_ALLOW_IPS so its X-Forwarded-Proto makes the request https.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge import logs
from webview_bridge.api.operations import ApiRoute, Operation
from webview_bridge.domain.apps import is_loopback_host
from webview_bridge.ids import new_id, new_secret
from webview_bridge.oauth.grants import ClientCredentialsWithRefresh, Revocation, RotatingRefreshTokenGrant
from webview_bridge.oauth.models import OAuthClient
from webview_bridge.runtime import Runtime
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


class _OAuth2Request(OAuth2Request):
    def __init__(self, request: FormRequest) -> None:
        super().__init__(request.method, request.uri, headers=request.headers)
        self.payload = BasicOAuth2Payload(request.form)
        self._form = request.form

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

    # --- Authlib's hooks ---------------------------------------------------------------------

    def query_client(self, client_id: str) -> OAuthClient:
        found = app_store.with_secret_hash(self.runtime.db, client_id)
        app, secret_hash = found if found else (None, None)
        return OAuthClient(app, secret_hash, self.runtime.keyring.hash)

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
        assert client.app is not None
        oauth_tokens.save(self.runtime.db, self.new_pair(token, client.app.id, new_id("fam")))

    def revoke_family(self, record: TokenRecord, reason: str) -> None:
        oauth_tokens.revoke_family(self.runtime.db, record.family_id)
        logs.event("token family revoked", app_id=record.app_id, family_id=record.family_id, reason=reason)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=NO_STORE)


async def _form_request(request: Request) -> FormRequest | JSONResponse:
    """Everything Authlib must not trip over is answered here as an RFC 6749 §5.2 error."""
    url = request.url
    if url.scheme != "https" and not is_loopback_host(url.hostname):
        return _oauth_error(400, "invalid_request", "HTTPS is required")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "send the body as application/x-www-form-urlencoded")
    authorization = request.headers.get("authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            base64.b64decode(authorization[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _oauth_error(401, "invalid_client", "the Basic credentials are not valid base64 of UTF-8")
    try:
        items = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the body is not UTF-8")
    form: dict[str, str] = {}
    for name, value in items:
        if name in form:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
            return _oauth_error(400, "invalid_request", f"{name} is given more than once")
        form[name] = value
    headers = {k.title(): v for k, v in request.headers.items()}
    # Transport was checked above; Authlib's own check would only turn the same answer into a 500.
    uri = str(url.replace(scheme="https"))
    return FormRequest(request.method, uri, headers, form)


def _claimed_client_id(form_request: FormRequest) -> str:
    """The app id the caller claims, right or wrong: attempts count whether or not they succeed."""
    authorization = form_request.headers.get("Authorization", "")
    if authorization[:6].lower() == "basic ":
        decoded = base64.b64decode(authorization[6:]).decode("utf-8", "replace")
        return decoded.partition(":")[0][:64]
    return form_request.form.get("client_id", "")[:64]


def _server(request: Request) -> BridgeAuthorizationServer:
    return request.app.state.oauth_server


async def token(request: Request) -> JSONResponse:
    form_request = await _form_request(request)
    if isinstance(form_request, JSONResponse):
        return form_request
    if not form_request.form.get("grant_type"):
        return _oauth_error(400, "invalid_request", "grant_type is required")
    claimed = _claimed_client_id(form_request)
    wait = await request.app.state.runtime.over_limit("token", claimed)
    if wait is not None:
        response = _oauth_error(429, "temporarily_unavailable", f"too many token requests; try again in {wait} s")
        response.headers["Retry-After"] = str(wait)
        return response
    return await request.app.state.runtime.db.run(_server(request).create_token_response, form_request)


async def revoke(request: Request) -> JSONResponse:
    form_request = await _form_request(request)
    if isinstance(form_request, JSONResponse):
        return form_request
    return await request.app.state.runtime.db.run(_server(request).create_endpoint_response, "revocation", form_request)


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
    ApiRoute("/oauth/token", token, methods=["POST"], operation=Operation(
        "Backend access token: client_credentials or refresh_token (RFC 6749)",
        form_body=TokenForm, responses={200: TokenResponse}, tags=["oauth"])),
    ApiRoute("/oauth/revoke", revoke, methods=["POST"], operation=Operation(
        "Revoke an access or refresh token (RFC 7009)", form_body=RevocationForm, responses={200: None}, tags=["oauth"])),
]
