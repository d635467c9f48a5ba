"""The sandbox ASPSP: a simulated bank speaking Berlin Group NextGenPSD2 1.3.11 (redirect SCA)
for every sandbox bank of the directory, at /{bank_id}/v1/…, with the bank's own login and
consent pages and the sandbox-only trusted API. The main server mounts it at /sandbox-bank;
`webview-bridge sandbox-bank` serves it alone (standalone.py). The route table is the map."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webview_bridge.sandbox_bank import trusted
from webview_bridge.sandbox_bank.api import accounts, consents, funds_confirmations, trusted_beneficiaries
from webview_bridge.sandbox_bank.api.errors import error_response
from webview_bridge.sandbox_bank.api.http import Conformance, Handler, request_id, xs2a_endpoint
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.errors import Refusal
from webview_bridge.sandbox_bank.pages import consent as consent_page, login
from webview_bridge.rendering import make_templates

BANK = "/{bank_id}"


def sandbox_bank_app(config: SandboxConfig) -> Starlette:
    conformance = Conformance()

    def api(path: str, handler: Handler, method: str = "GET") -> Route:
        return Route(BANK + path, xs2a_endpoint(config, conformance, handler), methods=[method])

    def page(path: str, handler, method: str) -> Route:  # noqa: ANN001 - a page handler takes (request, config)
        async def endpoint(request: Request) -> Response:
            return await handler(request, config)

        return Route(BANK + path, endpoint, methods=[method])

    def sandbox_only(path: str, handler: trusted.TrustedHandler, method: str) -> Route:
        return Route(BANK + path, trusted.trusted_endpoint(config, handler), methods=[method])

    routes = [
        # Berlin Group NextGenPSD2: AIS consents
        api("/v1/consents", consents.create, "POST"),
        api("/v1/consents/{consent_id}", consents.read),
        api("/v1/consents/{consent_id}", consents.delete, "DELETE"),
        api("/v1/consents/{consent_id}/status", consents.status),
        # AIS: payment accounts
        api("/v1/accounts", accounts.account_list(cards=False)),
        api("/v1/accounts/{account_id}", accounts.account_details(cards=False)),
        api("/v1/accounts/{account_id}/balances", accounts.balances(cards=False)),
        api("/v1/accounts/{account_id}/transactions", accounts.transactions(cards=False)),
        api("/v1/accounts/{account_id}/transactions/{transaction_id}", accounts.transaction_details),
        # AIS: card accounts
        api("/v1/card-accounts", accounts.account_list(cards=True)),
        api("/v1/card-accounts/{account_id}", accounts.account_details(cards=True)),
        api("/v1/card-accounts/{account_id}/balances", accounts.balances(cards=True)),
        api("/v1/card-accounts/{account_id}/transactions", accounts.transactions(cards=True)),
        # The trusted-beneficiaries extension, and PIIS
        api("/v1/trusted-beneficiaries", trusted_beneficiaries.list_beneficiaries),
        api("/v1/funds-confirmations", funds_confirmations.confirm, "POST"),
        # The bank's own pages: the SCA redirect
        page("/authorise/{link}", login.show, "GET"),
        page("/authorise/{link}/login", login.log_in, "POST"),
        page("/authorise/{link}/one-time-code", login.one_time_code, "POST"),
        page("/authorise/{link}/decision", consent_page.decide, "POST"),
        # Sandbox-only: the trusted capability
        sandbox_only("/trusted/psus/{psu_id}/accounts", trusted.psu_accounts, "GET"),
        sandbox_only("/trusted/consents", trusted.grant, "POST"),
        sandbox_only("/trusted/consents/{consent_id}/revoke-by-psu", trusted.revoke_by_psu, "POST"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _unrouted})
    app.state.templates = make_templates(None)
    app.state.sandbox_conformance = conformance  # what validating mode caught in the bank's own answers
    return app


async def _unrouted(request: Request, exc: Exception) -> Response:
    """A path or method this bank does not serve, answered in the Berlin Group error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        response: Response = error_response(Refusal("SERVICE_INVALID", "this method is not offered here"))
    elif status == 404:
        response = error_response(Refusal("RESOURCE_UNKNOWN", "this bank serves no such path"))
    else:
        response = Response(status_code=status)
    response.headers["X-Request-ID"] = request_id(request) or str(uuid.uuid4())
    return response
