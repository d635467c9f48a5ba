"""Berlin Group error answers: each message code's HTTP status, in one table, and the
`tppMessages` body the file defines for it.

The 1.3.11 file leaves the codes as free strings; these are the Implementation Guidelines' codes
and statuses (section 14.11). RESOURCE_UNKNOWN and SERVICE_INVALID answer 400 when the bad
reference is in the body or query rather than the path, as the guidelines distinguish.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from webview_bridge.sandbox_bank.errors import Refusal

STATUS = {
    "FORMAT_ERROR": 400,
    "PARAMETER_NOT_SUPPORTED": 400,
    "PERIOD_INVALID": 400,
    "SESSIONS_NOT_SUPPORTED": 400,
    "TOKEN_INVALID": 401,  # the trusted API's bearer key
    "CONSENT_INVALID": 401,
    "CONSENT_EXPIRED": 401,
    "CONSENT_UNKNOWN": 403,
    "RESOURCE_UNKNOWN": 404,
    "SERVICE_INVALID": 405,
    "STATUS_INVALID": 409,
    "ACCESS_EXCEEDED": 429,
    "SERVICE_UNAVAILABLE": 503,
}
_IN_PAYLOAD = {"RESOURCE_UNKNOWN": 400, "SERVICE_INVALID": 400}
TEXT_LIMIT = 500  # tppMessageText's maxLength


def status_of(refusal: Refusal) -> int:
    if refusal.in_payload and refusal.code in _IN_PAYLOAD:
        return _IN_PAYLOAD[refusal.code]
    return STATUS[refusal.code]


def error_response(refusal: Refusal) -> JSONResponse:
    message: dict[str, str] = {"category": "ERROR", "code": refusal.code, "text": refusal.text[:TEXT_LIMIT]}
    if refusal.path:
        message["path"] = refusal.path
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else None
    return JSONResponse({"tppMessages": [message]}, status_code=status_of(refusal), headers=headers)
