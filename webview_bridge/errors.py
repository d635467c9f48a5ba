"""The one error type and the one error response of PROTOCOL §1.

Everything outside /oauth/* that goes wrong answers
{"error": {"code", "message", "field"?}} with the status the protocol gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse

from webview_bridge.domain import errors as refusals


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


# The one table from a rule's refusal to its HTTP status (PROTOCOL §1).
STATUS: dict[type[refusals.Refused], int] = {
    refusals.Invalid: 400,
    refusals.NotAllowed: 403,
    refusals.NotFound: 404,
    refusals.Conflict: 409,
    refusals.Gone: 410,
    refusals.Throttled: 429,
    refusals.Unavailable: 503,
}


def from_refusal(refusal: refusals.Refused) -> ApiError:
    status = next(code for kind, code in STATUS.items() if isinstance(refusal, kind))
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after is not None else None
    return ApiError(status, refusal.code, refusal.message, refusal.field, headers)


def not_found(what: str = "object", code: str = "not_found") -> ApiError:
    return ApiError(404, code, f"no such {what}")


def field_path(loc: Sequence[int | str]) -> str | None:
    """('phones', 1, 'hash') -> 'phones[1].hash'; (2, 'ttl_minutes') -> '[2].ttl_minutes'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or None


# pydantic's error types that mean "the wrong JSON type", so one code covers them.
_TYPE_ERRORS = {
    "int_type", "int_parsing", "float_type", "string_type", "bool_type", "list_type", "dict_type",
    "model_type", "model_attributes_type", "set_type", "tuple_type", "decimal_type", "date_type",
    "datetime_type", "literal_error", "enum", "int_from_float", "is_instance_of", "none_required",
}


def from_validation_error(exc: ValidationError) -> ApiError:
    """The first problem pydantic found, in the protocol's words. An unknown field is named before
    a missing one: a misspelt field shows up as both, and the misspelling is what to fix."""
    problems = exc.errors(include_url=False)
    first = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    kind, loc = first["type"], [p for p in first["loc"] if not (isinstance(p, str) and "[" in p)]
    where = field_path(loc)
    if kind == "json_invalid":
        return ApiError(400, "malformed_json", "the body is not valid JSON")
    if kind == "extra_forbidden":
        return ApiError(400, "unknown_field", f"unknown field {where!r}", where)
    if kind == "missing":
        return ApiError(400, "missing_field", f"{where} is required", where)
    if kind in _TYPE_ERRORS:
        message = first["msg"]
        if kind in ("literal_error", "enum"):
            return ApiError(400, "invalid_value", f"{where}: {message}", where)
        return ApiError(400, "invalid_type", f"{where or 'body'}: {message}", where)
    if kind.endswith(("_too_short", "_too_long")) or kind in ("too_short", "too_long"):
        return ApiError(400, "invalid_length", f"{where}: {first['msg']}", where)
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return ApiError(400, "out_of_range", f"{where}: {first['msg']}", where)
    if kind in ("value_error", "assertion_error", "string_pattern_mismatch"):
        message = first["msg"].removeprefix("Value error, ")
        return ApiError(400, "invalid_value", f"{where}: {message}" if where else message, where)
    # Our own PydanticCustomError types are already protocol codes (pan_detected, …).
    return ApiError(400, kind, first["msg"], where)
