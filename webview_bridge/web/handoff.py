"""The client-token hand-off (PROTOCOL §3, §6): the bank's app opens the WebView with
`Authorization: Bearer <client token>`; the server answers with a fresh session cookie for that
customer and never puts the token in a URL, a page or a log."""

from __future__ import annotations

from starlette.requests import Request

from webview_bridge import logs
from webview_bridge.api.auth import bearer_token
from webview_bridge.runtime import Runtime
from webview_bridge.store import customers as customer_store
from webview_bridge.web.session import issue_session


async def take_client_token(request: Request, runtime: Runtime, path_template: str) -> bool:
    """Start a new session for the customer a live client token names (a new one: no fixation)."""
    secret = bearer_token(request)
    if secret is None:
        return False
    token = await runtime.db.run(customer_store.find_token, runtime.db, runtime.keyring, secret)
    if token is None or not token.live(runtime.clock.now()):
        logs.event("client token refused at hand-off", path_template=path_template)
        return False
    await issue_session(request, runtime, client_token_id=token.id)
    return True
