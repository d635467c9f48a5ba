"""POST /token-requests, GET /token-requests/{id}, GET /token-requests/{id}/result (PROTOCOL §5)."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.wire import Resource, TokenRequestCreated, TokenRequestEnvelope, TokenRequestResult, TokenRequestView
from webview_bridge.api.auth import owned_by, require_app
from webview_bridge.api.operations import (
    ApiRoute, Operation, StrictModel, json_response, parse_body, parse_query,
)
from webview_bridge.domain.token_requests import (
    RESOURCES, TokenRequest, check_context, check_repeated_description, check_replacement,
)
from webview_bridge.errors import not_found
from webview_bridge.security.pan import contains_pan
from webview_bridge.store import customizations as customization_store
from webview_bridge.store import token_requests as request_store
from webview_bridge.store import tokens as token_store
from webview_bridge.routing import path_for, public_url_for
from webview_bridge.runtime import Runtime

assert set(Resource.__args__) == set(RESOURCES)  # type: ignore[attr-defined]

REF_ID = r"^[A-Za-z0-9._-]{1,64}$"
_ALIAS_RULES = {
    "EMAIL": (re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"), "an email address"),
    "PHONE": (re.compile(r"^\+[1-9]\d{6,14}$"), "a phone number in E.164 form, such as +447700900123"),
    "DOMAIN": (re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"), "a domain name"),
    "USERNAME": (re.compile(r"^[A-Za-z0-9._@+-]{1,64}$"), "1 to 64 of A-Z a-z 0-9 . _ @ + -"),
}


def _printable(value: str, what: str) -> str:
    if not value.isprintable():
        raise ValueError(f"{what} must be printable text (no control characters or line breaks)")
    return value


def _refuse_pan(value: Any, info: ValidationInfo) -> Any:
    """Runs before the field's own checks, so a card number is what gets named (PROTOCOL §5)."""
    if isinstance(value, str) and contains_pan(value):
        raise PydanticCustomError("pan_detected", "{field} contains what looks like a card number",
                                  {"field": info.field_name})
    return value


# A free-text field a TPP sends: never a card number, however its digits are written.
NoCardNumber = BeforeValidator(_refuse_pan)


class FromAlias(StrictModel):
    type: Literal["EMAIL", "PHONE", "DOMAIN", "USERNAME"]
    value: Annotated[str, NoCardNumber] = Field(min_length=1, max_length=254)

    @model_validator(mode="after")
    def _value_fits_type(self) -> FromAlias:
        pattern, expected = _ALIAS_RULES[self.type]
        if not pattern.match(self.value):
            raise PydanticCustomError("invalid_alias", f"from_alias.value must be {expected} for type {self.type}")
        return self


class ActingAs(StrictModel):
    display_name: Annotated[str, NoCardNumber] = Field(min_length=1, max_length=100)
    ref_id: Annotated[str | None, NoCardNumber] = Field(None, pattern=REF_ID)
    logo_url: str | None = Field(None, max_length=2000, pattern=r"^https://[^\s]+$", description="https only; never loaded by the pages")
    secondary_name: Annotated[str | None, NoCardNumber] = Field(None, min_length=1, max_length=100)

    @field_validator("display_name", "secondary_name")
    @classmethod
    def _names_printable(cls, value: str | None) -> str | None:
        return None if value is None else _printable(value, "names")


class TokenRequestIn(StrictModel):
    resources: list[Resource] = Field(min_length=1, max_length=len(RESOURCES))
    redirect_url: str = Field(min_length=1, max_length=2000)
    ref_id: Annotated[str, NoCardNumber] = Field(pattern=REF_ID)
    csrf_token: str = Field(min_length=16, max_length=256)
    description: Annotated[str | None, NoCardNumber] = Field(None, min_length=1, max_length=255)
    callback_state: Annotated[str | None, NoCardNumber] = Field(None, max_length=2048)
    bank_id: str | None = Field(None, min_length=1, max_length=64)
    from_alias: FromAlias | None = None
    customization_id: str | None = Field(None, min_length=1, max_length=64)
    token_expiration_days: int = Field(90, ge=1, le=180)
    acting_as: ActingAs | None = None
    countries: list[str] | None = Field(None, min_length=1, max_length=50)
    receipt_requested: bool = False
    trace_id: Annotated[str | None, NoCardNumber] = Field(None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    replaces_token_id: str | None = Field(None, min_length=1, max_length=64,
                                          description="renew this token: same bank, no bank selection (re-consent)")
    text_language: str | None = Field(None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                      description="the language of the TPP's texts (BCP 47), so pages mark them")

    @field_validator("resources")
    @classmethod
    def _a_set(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("resources must not repeat a resource")
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else _printable(value, "description")

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str] | None) -> list[str] | None:
        for code in value or []:
            if not re.match(r"^[A-Z]{2}$", code):
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code such as DE")
        return value


class ResultQuery(StrictModel):
    description: str | None = Field(None, max_length=255)


def token_request_view(request: TokenRequest, now: Any) -> TokenRequestView:
    return TokenRequestView(
        id=request.id, status=request.status_at(now), created_at=request.created_at, expires_at=request.expires_at,
        csrf_token_hash=request.csrf_token_hash, **request.details,
    )


async def create_token_request(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    body = await parse_body(request, TokenRequestIn)
    details = body.model_dump(mode="json", exclude={"csrf_token"})
    details["description"] = body.description or body.ref_id
    customization_id = details.get("customization_id")
    owned = customization_id is not None and await runtime.db.run(
        customization_store.get, runtime.db, customization_id, caller.app.id) is not None
    if body.replaces_token_id is not None:
        renewed = await runtime.db.run(token_store.get, runtime.db, body.replaces_token_id)
        details["bank_id"] = check_replacement(renewed, caller.app.id, body.bank_id, runtime.clock.now())
    check_context(details, caller.app, runtime.banks.get, owns_customization=lambda _id: owned)
    csrf_token_hash = hashlib.sha256(body.csrf_token.encode()).hexdigest()
    stored = await runtime.db.run(request_store.create, runtime.db, runtime.clock, caller.app.id, csrf_token_hash, details)
    url = public_url_for(request, runtime.settings.base_url, "request_token", request_id=stored.id)
    created = TokenRequestCreated(token_request=token_request_view(stored, runtime.clock.now()), url=url)
    return json_response(created, status=201, headers={"Location": path_for(request, "token_request", request_id=stored.id)})


async def _own_request(request: Request, runtime: Runtime, app_id: str) -> TokenRequest:
    found = await runtime.db.run(request_store.get, runtime.db, request.path_params["request_id"])
    return owned_by(found, app_id, "token request", "token_request_not_found")


async def get_token_request(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    found = await _own_request(request, runtime, caller.app.id)
    now = runtime.clock.now()
    return json_response(TokenRequestEnvelope(token_request=token_request_view(found, now)))


async def get_result(request: Request, runtime: Runtime) -> JSONResponse:
    """Anyone with the id until it expires (the WebView-initiated flow); afterwards only its creator."""
    query = parse_query(request, ResultQuery)
    now = runtime.clock.now()
    if "authorization" in request.headers:
        caller = await require_app(request, runtime, None)
        found = await _own_request(request, runtime, caller.app.id)
    else:
        found = await runtime.db.run(request_store.get, runtime.db, request.path_params["request_id"])
        if found is None or found.is_expired(now):
            raise not_found("token request", "token_request_not_found")
    check_repeated_description(query.description, found)
    status = found.status_at(now)
    result = TokenRequestResult(
        request_id=found.id, status=status,
        token_id=found.token_id if status == "PROCESSED" else None,
        error=found.error if status == "REJECTED" else None,
        replaces_token_id=found.details.get("replaces_token_id"),
    )
    return JSONResponse(result.model_dump(mode="json", exclude_none=True))


routes = [
    ApiRoute("/token-requests", create_token_request, methods=["POST"], name="create_token_request", operation=Operation(
        "Store a token request", auth="tpp", body=TokenRequestIn, responses={201: TokenRequestCreated}, tags=["token requests"])),
    ApiRoute("/token-requests/{request_id}", get_token_request, methods=["GET"], name="token_request", operation=Operation(
        "A token request, for its creator", auth="tpp", responses={200: TokenRequestEnvelope}, tags=["token requests"])),
    ApiRoute("/token-requests/{request_id}/result", get_result, methods=["GET"], name="token_request_result", operation=Operation(
        "The outcome of a token request", query=ResultQuery, responses={200: TokenRequestResult, 409: None},
        tags=["token requests"])),
]
