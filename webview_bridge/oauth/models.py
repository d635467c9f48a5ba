"""Authlib's storage contract (ClientMixin, TokenMixin) over our apps and token records."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from webview_bridge.clock import Clock
from webview_bridge.domain.apps import AuthenticatedApp
from webview_bridge.store.oauth_tokens import TokenRecord

GRANT_TYPES = ("client_credentials", "refresh_token")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(ClientMixin):
    """An app whose credentials have verified (see BridgeAuthorizationServer.authenticate): Authlib
    only ever sees authenticated clients."""

    def __init__(self, app: AuthenticatedApp) -> None:
        self.app = app

    def get_client_id(self) -> str:
        return self.app.id

    def check_client_secret(self, client_secret: str) -> bool:
        raise NotImplementedError("secrets are checked once, before Authlib runs")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES

    def get_allowed_scope(self, scope: str | None) -> str:
        roles = sorted(self.app.roles)
        if not scope:
            return " ".join(roles)
        return " ".join(s for s in sorted(set(scope_to_list(scope))) if s in roles)


class StoredToken(TokenMixin):
    def __init__(self, record: TokenRecord, clock: Clock, kind: str) -> None:
        self.record = record
        self.clock = clock
        self.kind = kind  # "access_token" or "refresh_token"

    def check_client(self, client: OAuthClient) -> bool:
        return client.app.id == self.record.app_id

    def get_scope(self) -> str:
        return self.record.scope

    def get_expires_in(self) -> int:
        return int((self.record.access_expires_at - self.clock.now()).total_seconds())

    def is_expired(self) -> bool:
        expires = self.record.access_expires_at if self.kind == "access_token" else self.record.refresh_expires_at
        return expires is None or expires <= self.clock.now()

    def is_revoked(self) -> bool:
        return self.record.revoked
