"""The customer's own list of what they shared (PROTOCOL §14): a bank's app opens /app/grants with
its customer's client token on the first load; each active grant at that bank shows which TPP,
what, which accounts, since and until when, with "Stop sharing"."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from webview_bridge.domain.customers import ClientToken
from webview_bridge.domain.tokens import belongs_to_customer
from webview_bridge.routing import PageRoute, path_for
from webview_bridge.runtime import Runtime
from webview_bridge.store import apps as app_store
from webview_bridge.store import customers as customer_store
from webview_bridge.store import sessions
from webview_bridge.store import tokens as token_store
from webview_bridge.store.flows import session_alive
from webview_bridge.web.consent import RESOURCE_WORDS
from webview_bridge.web.handoff import take_client_token
from webview_bridge.web.session import check_csrf, csrf_token, current_session, remember_session, session_hash
from webview_bridge.rendering import render

GRANTS = "grants"  # what the page's CSRF tokens are bound to, with the session


@dataclass(frozen=True)
class Holder:
    """Whose grants: the customer a live hand-off session names, at its bank."""

    token: ClientToken
    bank_id: str | None
    bank_name: str


async def _holder(request: Request, runtime: Runtime) -> Holder | None:
    value = current_session(request, runtime)
    if value is None:
        return None
    hashed = session_hash(runtime, value)
    if not session_alive(await runtime.db.run(sessions.created_at, runtime.db, hashed), runtime.clock.now()):
        return None
    token = await runtime.db.run(customer_store.session_customer, runtime.db, hashed)
    if token is None or token.customer_id is None:
        return None
    bank_app = await runtime.db.run(app_store.get, runtime.db, token.bank_app_id)
    if bank_app is None:
        return None
    bank = runtime.banks.get(bank_app.bank_id or "")
    return Holder(token, bank_app.bank_id, bank.name if bank else bank_app.name)


async def _page(request: Request, runtime: Runtime, holder: Holder | None, *, stopped: str | None = None,
                status: int = 200) -> Response:
    rows = []
    if holder is not None:
        rows = await runtime.db.run(token_store.grants, runtime.db, runtime.clock, holder.bank_id or "",
                                    holder.token.customer_id, holder.token.customer_ref)
    context = {
        "holder": holder, "grants": rows, "stopped": stopped, "resource_words": RESOURCE_WORDS,
        "csrf": csrf_token(runtime, current_session(request, runtime) or "", GRANTS) if holder else "",
        "event": "OPEN" if holder else "ERROR",
    }
    page = render(runtime.templates, request, "grants.html", context, status=status if holder else 403)
    return remember_session(request, runtime, page)


async def show(request: Request, runtime: Runtime) -> Response:
    """GET /app/grants: the list (the first load carries the bank's client token)."""
    await take_client_token(request, runtime, "/app/grants")
    return await _page(request, runtime, await _holder(request, runtime), stopped=request.query_params.get("stopped"))


async def stop(request: Request, runtime: Runtime) -> Response:
    """POST /app/grants/{token_id}/stop: the customer stops sharing; the TPP is told, the bank's consent ended."""
    holder = await _holder(request, runtime)
    form = await request.form()
    await check_csrf(request, runtime, form.get("csrf"), GRANTS, session_known=holder is not None)
    token = await runtime.db.run(token_store.get, runtime.db, request.path_params["token_id"])
    assert holder is not None  # check_csrf refused anyone else
    if token is None or not belongs_to_customer(token, holder.bank_id, holder.token.customer_id, holder.token.customer_ref):
        return await _page(request, runtime, holder, status=404)
    await runtime.db.run(token_store.cancel, runtime.db, runtime.clock, token.id)
    runtime.wake_worker()
    listed = f"{path_for(request, 'grants')}?stopped={token.id}"
    return remember_session(request, runtime, RedirectResponse(listed, status_code=303))


routes = [
    PageRoute("/app/grants", show, methods=["GET"], name="grants"),
    PageRoute("/app/grants/{token_id}/stop", stop, methods=["POST"], name="stop_grant"),
]
