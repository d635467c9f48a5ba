"""The client-token hand-off (PROTOCOL §3, §6): the bank's app opens the WebView with
`Authorization: Bearer <client token>`; the server answers with a fresh session cookie for that
customer and never puts the token in a URL, a page or a log."""

from __future__ import annotations

from starlette.requests import Request

from webview_bridge import logs
from webview_bridge.api.auth import bearer_token
from webview_bridge.domain.apps import App
from webview_bridge.domain.customers import ClientToken
from webview_bridge.ids import new_secret
from webview_bridge.store import apps as app_store
from webview_bridge.store import customers as customer_store
from webview_bridge.web.session import HANDOFF_MARK, began_with_handoff, current_session, session_hash


async def take_client_token(request: Request) -> None:
    """Start a new session for the customer a live client token names (a new one: no fixation)."""
    secret = bearer_token(request)
    if secret is None:
        return
    runtime = request.app.state.runtime
    token = await runtime.db.run(customer_store.find_token, runtime.db, runtime.keyring, secret)
    if token is None or not token.live(runtime.clock.now()):
        logs.event("client token refused at hand-off", path_template="/app/request-token/{request_id}")
        return
    value = HANDOFF_MARK + new_secret()
    request.state.new_session = value
    await runtime.db.run(customer_store.start_session, runtime.db, runtime.clock, session_hash(request, value), token.id)


async def session_customer(request: Request) -> tuple[ClientToken, App] | None:
    """The client token this browser's session began with, and the bank app that issued it."""
    value = getattr(request.state, "new_session", None) or current_session(request)
    if value is None or not began_with_handoff(value):
        return None
    runtime = request.app.state.runtime
    token = await runtime.db.run(customer_store.session_token, runtime.db, session_hash(request, value))
    if token is None:
        return None
    bank_app = await runtime.db.run(app_store.get, runtime.db, token.bank_app_id)
    return (token, bank_app) if bank_app is not None else None
