"""Our grant and endpoint subclasses of Authlib's (RFC 6749 §4.4, §6; RFC 7009; RFC 9700 §4.14.2)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint

from webview_bridge import logs
from webview_bridge.oauth.models import OAuthClient, StoredToken
from webview_bridge.store import oauth_tokens


class ClientCredentialsWithRefresh(ClientCredentialsGrant):
    """Client credentials that also issue a refresh token.

    RFC 6749 §4.4.3 says a refresh token SHOULD NOT be included; the seed asks for one, so each
    grant starts a new token family that rotates from here.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if not requested <= self.request.client.app.roles:
            raise InvalidScopeError(description="the scope asks for a role this app does not have")

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=True)
        self.server.save_new_family(token, self.request.client)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class RotatingRefreshTokenGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> StoredToken | None:
        record = oauth_tokens.by_refresh_hash(self.server.runtime.db, self.server.runtime.keyring.hash(refresh_token))
        if record is None:
            return None
        if record.refresh_used or record.revoked:
            # A spent refresh token came back: someone holds a copy. End the whole family.
            self.server.revoke_family(record, reason="refresh token reuse")
            return None
        token = StoredToken(record, self.server.runtime.clock, "refresh_token")
        return None if token.is_expired() else token

    def authenticate_user(self, refresh_token: StoredToken) -> str:
        return refresh_token.record.app_id  # no end user in client credentials: the app itself

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        spent: StoredToken = self.request.refresh_token
        token = self.issue_token(self.authenticate_user(spent), spent)
        successor = self.server.new_pair(token, spent.record.app_id, spent.record.family_id)
        if not oauth_tokens.rotate(self.server.runtime.db, spent.record.id, successor):
            # Lost a race for this token's first use: that is reuse too.
            self.server.revoke_family(spent.record, reason="concurrent refresh token reuse")
            raise InvalidGrantError()
        return 200, token, self.TOKEN_RESPONSE_HEADER


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def authenticate_token(self, request: Any, client: OAuthClient) -> StoredToken | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # Another app's token is "unknown" to this one: 200, nothing revoked, nothing told.
        return token if token is not None and token.check_client(client) else None

    def query_token(self, token_string: str, token_type_hint: str | None) -> StoredToken | None:
        runtime = self.server.runtime
        digest = runtime.keyring.hash(token_string)
        order = ["refresh_token", "access_token"] if token_type_hint == "refresh_token" else ["access_token", "refresh_token"]
        for kind in order:
            lookup = oauth_tokens.by_access_hash if kind == "access_token" else oauth_tokens.by_refresh_hash
            record = lookup(runtime.db, digest)
            if record is not None:
                return StoredToken(record, runtime.clock, kind)
        return None

    def revoke_token(self, token: StoredToken, request: Any) -> None:
        if token.kind == "refresh_token":  # RFC 7009 §2.1: and the access tokens of that grant
            self.server.revoke_family(token.record, reason="refresh token revoked")
        else:
            oauth_tokens.revoke_pair(self.server.runtime.db, token.record.id)
            logs.event("access token revoked", app_id=token.record.app_id, family_id=token.record.family_id)
