"""`serve --demo`: a demo TPP mounted at /demo, registered in the server's own database, using the
TPP helper exactly as a TPP would — over HTTP, with its own credentials and callback secret."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict, deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge import logs
from webview_bridge.domain.apps import ROLE_CHOICES
from webview_bridge.runtime import Runtime
from webview_bridge.store import apps as app_store
from webview_bridge.store import webhooks as webhook_store
from webview_bridge.tpp import BridgeError, LinkResult, TppConfig, tpp_app
from webview_bridge.rendering import render

DEMO_NAME = "webview-bridge demo TPP"
DEMO_COOKIE = "wvb_demo"


def _register(runtime: Runtime) -> tuple[str, str, str]:
    """The demo app's id, a fresh secret, and its redirect URL; made on first start, reused after."""
    redirect_url = f"{runtime.settings.base_url}/demo/callback"
    existing = next((a for a in app_store.list_all(runtime.db) if a.name == DEMO_NAME), None)
    if existing is None:
        created = app_store.create(runtime.db, runtime.keyring, runtime.clock, name=DEMO_NAME,
                                   roles=ROLE_CHOICES["tpp"], redirect_urls=(redirect_url,))
        return created.app_id, created.app_secret, redirect_url
    secret = app_store.rotate_secret(runtime.db, runtime.keyring, existing.id)
    assert secret is not None
    app_store.set_redirect_urls(runtime.db, existing.id, (redirect_url,))
    return existing.id, secret, redirect_url


def _webhook(runtime: Runtime, app_id: str) -> str:
    """The demo hears its events at /demo/webhooks: a fresh endpoint per start (a secret is shown once)."""
    for old in webhook_store.listed(runtime.db, app_id):
        webhook_store.remove(runtime.db, old.id)
    _, secret = webhook_store.create(runtime.db, runtime.keyring, runtime.clock, app_id,
                                     f"{runtime.settings.internal_url}/demo/webhooks", None)
    return secret


class DemoState:
    """Which tokens each demo browser linked, and the latest events. In memory: a demo, not a product."""

    def __init__(self) -> None:
        self.linked: dict[str, list[str]] = defaultdict(list)
        self.events: deque[dict[str, Any]] = deque(maxlen=12)

    def owner(self, token_id: str) -> str | None:
        return next((visitor for visitor, tokens in self.linked.items() if token_id in tokens), None)


def demo_app(runtime: Runtime) -> Starlette:
    app_id, app_secret, redirect_url = _register(runtime)
    state = DemoState()

    async def on_linked(result: LinkResult, request: Request) -> None:
        visitor = request.cookies.get(DEMO_COOKIE)
        if result.token_id and visitor:
            mine = state.linked[visitor]
            if result.replaces_token_id in mine:
                mine.remove(result.replaces_token_id)
            mine.append(result.token_id)
        logs.event("demo link finished", request_id=result.request_id, linked=bool(result.token_id), error=result.error)

    async def on_event(event: dict[str, Any], request: Request) -> None:
        state.events.appendleft(event)
        if event["type"] in ("token.cancelled", "token.expired"):
            owner = state.owner(event["data"]["token_id"])
            if owner:
                state.linked[owner].remove(event["data"]["token_id"])

    def may_renew(token_id: str, request: Request) -> bool:
        return token_id in state.linked.get(request.cookies.get(DEMO_COOKIE, ""), [])

    config = TppConfig(
        server_url=runtime.settings.base_url, app_id=app_id, app_secret=app_secret,
        callback_secrets=runtime.callback_secrets(app_id), redirect_url=redirect_url,
        on_linked=on_linked, return_url="/demo/", request_fields={"description": "See your accounts in the demo"},
        resources=("ACCOUNTS", "BALANCES", "TRANSACTIONS"), webhook_secrets=[_webhook(runtime, app_id)],
        on_event=on_event, may_renew=may_renew,
    )

    async def home(request: Request) -> Response:
        visitor = request.cookies.get(DEMO_COOKIE) or secrets.token_urlsafe(16)
        linked: list[dict[str, Any]] = []
        problem = None
        client = config.bridge()
        for token_id in reversed(state.linked.get(visitor, [])):
            try:
                accounts = await client.get_accounts(token_id)
                details = await asyncio.gather(*[
                    asyncio.gather(client.get_balance(token_id, a.id), client.get_transactions(token_id, a.id, limit=5))
                    for a in accounts
                ])
            except BridgeError as error:
                problem = f"{token_id}: {error.code}"
                continue
            linked.append({"token_id": token_id, "accounts": [
                {"account": a, "balance": d[0], "transactions": d[1].transactions} for a, d in zip(accounts, details)
            ]})
        response = render(runtime.templates, request, "demo_home.html", {
            "linked": linked, "problem": problem, "just_linked": request.query_params.get("token-id"),
            "outcome_error": request.query_params.get("error"), "events": list(state.events),
        })
        if DEMO_COOKIE not in request.cookies:
            response.set_cookie(DEMO_COOKIE, visitor, httponly=True, samesite="lax", path="/demo")
        return response

    return tpp_app(config, runtime.settings.templates_dir, extra_routes=[Route("/", home, methods=["GET"])])
