"""GET /v1/trusted-beneficiaries?account-id=… — the Berlin Group extension: the payees the
customer trusts, per account, when the consent asked for additionalInformation.trustedBeneficiaries."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from webview_bridge.sandbox_bank import data
from webview_bridge.sandbox_bank.api import shapes
from webview_bridge.sandbox_bank.api.access import granted_account, valid_consent
from webview_bridge.sandbox_bank.api.http import Call
from webview_bridge.sandbox_bank.errors import Refusal


async def list_beneficiaries(call: Call) -> Response:
    consent = await valid_consent(call)
    resource_id = call.query("account-id")
    if not resource_id:
        raise Refusal("FORMAT_ERROR", "account-id is required", "account-id")
    account = granted_account(call, consent, resource_id, cards=False, service="trustedBeneficiaries")
    # Not counted against frequencyPerDay: the extension's file defines no 429 answer to refuse with.
    return JSONResponse({"trustedBeneficiaries": [shapes.beneficiary(account, b) for b in data.trusted_beneficiaries(account)]})
