"""The sandbox-only trusted capability (PROTOCOL §11, step 5): what a bank that deploys the
server for its own customers lets it do without a bank page. Not Berlin Group; authenticated
with `Authorization: Bearer <trusted_key>`; every route is 404 when no key is configured.

- GET  /{bank_id}/trusted/psus/{psu_id}/accounts → {"accounts": [accountDetails…], "cardAccounts": [cardAccountDetails…]}
- POST /{bank_id}/trusted/consents {"psuId", "access", "accounts": [resourceId…], "validUntil", "frequencyPerDay",
  "recurringIndicator"} → 201 {"consentId", "consentStatus": "valid"}
- POST /{bank_id}/trusted/consents/{consentId}/revoke-by-psu → 204 (what the customer does in their bank's app)

Errors use the Berlin Group tppMessages shape, like the rest of the bank.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webview_bridge.sandbox_bank import store
from webview_bridge.sandbox_bank.api import shapes
from webview_bridge.sandbox_bank.api.errors import error_response
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.consents import (
    ConsentRequest,
    adjust_valid_until,
    after_revoke_by_psu,
    parse_access,
    parse_flag,
    parse_frequency,
)
from webview_bridge.sandbox_bank.data import BankFacts, accounts_of, normalise_login
from webview_bridge.sandbox_bank.errors import Refusal
from webview_bridge.sandbox_bank.special_banks import is_unavailable

TrustedHandler = Callable[[Request, SandboxConfig, Any], Awaitable[Response]]


def trusted_endpoint(config: SandboxConfig, handler: TrustedHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if config.trusted_key is None:
            return Response(status_code=404)  # the capability does not exist on this deployment
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), config.trusted_key.encode()):
            response = error_response(Refusal("TOKEN_INVALID", "the trusted API needs the configured bearer key"))
            response.headers["WWW-Authenticate"] = 'Bearer realm="sandbox-bank-trusted"'
            return response
        try:
            bank = config.bank(request.path_params["bank_id"])
            if bank is None:
                raise Refusal("RESOURCE_UNKNOWN", "no such bank")
            if is_unavailable(bank):
                raise Refusal("SERVICE_UNAVAILABLE", f"{bank.name} is not available right now", retry_after=3600)
            return await handler(request, config, bank)
        except Refusal as refusal:
            return error_response(refusal)

    return endpoint


async def psu_accounts(request: Request, config: SandboxConfig, bank: Any) -> Response:
    psu_id = normalise_login(request.path_params["psu_id"])
    found = accounts_of(BankFacts.of(bank), psu_id)
    return JSONResponse({
        "accounts": [shapes.account_details(a, full=True, owner=True) for a in found if not a.is_card],
        "cardAccounts": [shapes.card_account_details(a, full=True, owner=True) for a in found if a.is_card],
    })


async def grant(request: Request, config: SandboxConfig, bank: Any) -> Response:
    try:
        body = await request.json()
    except ValueError:
        raise Refusal("FORMAT_ERROR", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refusal("FORMAT_ERROR", "the body must be a JSON object")
    psu_id = body.get("psuId")
    if not isinstance(psu_id, str) or not normalise_login(psu_id):
        raise Refusal("FORMAT_ERROR", "psuId must be the customer's login", "psuId")
    psu_id = normalise_login(psu_id)
    now = config.clock.now()
    consent = ConsentRequest(parse_access(body.get("access")), parse_flag(body, "recurringIndicator"),
                             adjust_valid_until(body.get("validUntil"), now.date()), parse_frequency(body))
    chosen = body.get("accounts")
    own = [a.resource_id for a in accounts_of(BankFacts.of(bank), psu_id)]
    if not isinstance(chosen, list) or not chosen or not all(isinstance(c, str) for c in chosen):
        raise Refusal("FORMAT_ERROR", "accounts must list at least one resourceId", "accounts")
    if not set(chosen) <= set(own):
        raise Refusal("RESOURCE_UNKNOWN", "accounts names an account this customer does not hold", "accounts", in_payload=True)
    accounts = [resource_id for resource_id in own if resource_id in set(chosen)]
    consent_id = await config.db.run(lambda: store.create_valid_consent(
        config.db, bank_id=bank.id, psu_id=psu_id, request=consent, accounts=accounts, now=now))
    return JSONResponse({"consentId": consent_id, "consentStatus": "valid"}, status_code=201)


async def revoke_by_psu(request: Request, config: SandboxConfig, bank: Any) -> Response:
    now = config.clock.now()
    revoked = await config.db.run(store.change_status, config.db, bank.id, request.path_params["consent_id"],
                                  after_revoke_by_psu, now.date(), now)
    if revoked is None:
        raise Refusal("CONSENT_UNKNOWN", "no such consent at this bank", "consentId")
    return Response(status_code=204)
