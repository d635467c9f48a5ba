"""PUT /customers, POST /client-tokens/phone-hash, POST /client-tokens/client-id and
POST /activations (PROTOCOL §3): a bank preloads its customers and names them to the WebView."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.api.auth import bearer_token, require_app
from webview_bridge.wire import Timestamp
from webview_bridge.api.operations import ApiRoute, Operation, ResponseModel, StrictModel, json_response, parse_body
from webview_bridge.clock import rfc3339
from webview_bridge.domain.apps import App
from webview_bridge.domain.customers import MAX_TTL_MINUTES, check_phones, check_token_spec
from webview_bridge.errors import ApiError
from webview_bridge.store import apps as app_store
from webview_bridge.store import customers as customer_store
from webview_bridge.runtime import Runtime

_HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_BATCH = 1000


class Phone(StrictModel):
    hash: str
    primary: bool = False

    @field_validator("hash")
    @classmethod
    def _hex64(cls, value: str) -> str:
        if not _HASH.match(value):
            raise PydanticCustomError("invalid_phone_hash", "a phone hash is 64 lowercase hex characters")
        return value


ClientId = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")


class CustomerIn(StrictModel):
    client_id: str = ClientId
    phones: list[Phone] = Field(default_factory=list, max_length=20)


class CustomersIn(StrictModel):
    customers: list[CustomerIn] = Field(min_length=1, max_length=MAX_BATCH)


class CustomersOut(ResponseModel):
    created: int
    updated: int


class PhoneTokenIn(StrictModel):
    ttl_minutes: int = Field(ge=1, le=MAX_TTL_MINUTES)
    phones: list[Phone] = Field(min_length=1, max_length=20)
    strong_auth: bool = False


class ClientIdTokenIn(StrictModel):
    ttl_minutes: int = Field(ge=1, le=MAX_TTL_MINUTES)
    client_id: str = ClientId
    strong_auth: bool = False


class ClientTokenOut(ResponseModel):
    client_token: str
    token_type: Literal["client"]
    expires_at: Timestamp
    customer_id: str | None
    activation: Literal["preloaded", "required", "independent"]


class ActivationIn(StrictModel):
    accept_terms: bool


class ActivationOut(ResponseModel):
    customer_id: str
    activation: Literal["independent", "preloaded"]


def _phones(items: list[Phone]) -> list[tuple[str, bool]]:
    return [(p.hash, p.primary) for p in items]


async def put_customers(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "bank")
    body = await parse_body(request, CustomersIn)
    seen: dict[str, int] = {}
    specs = []
    for i, item in enumerate(body.customers):
        if seen.setdefault(item.client_id, i) != i:
            raise ApiError(400, "duplicate_client_id", "this client_id appears twice in the batch", f"customers[{i}].client_id")
        check_phones(_phones(item.phones), f"customers[{i}].phones")
        specs.append(customer_store.CustomerSpec(item.client_id, _phones(item.phones)))
    created, updated = await runtime.db.run(customer_store.upsert, runtime.db, runtime.clock, runtime.keyring, caller.app, specs)
    return json_response(CustomersOut(created=created, updated=updated))


def _resolver(bank_app: App, by: str):
    """Names the customer of one element, inside the issuing transaction."""

    def resolve(conn: Any, index: int, spec: dict[str, Any]) -> dict[str, Any]:
        if by == "phones":
            found = customer_store.resolve(conn, bank_app.id, phone_hashes=[h for h, _ in spec["phones"]])
        else:
            found = customer_store.resolve(conn, bank_app.id, client_id=spec["client_id"])
        if len(found) > 1:
            raise ApiError(409, "ambiguous_customer", "these phones belong to more than one customer", f"[{index}].phones")
        if found:
            return {"customer_id": found[0][0], "activation": "preloaded", "pending_client_id": None, "pending_phones": None}
        if not bank_app.independent_activation:
            raise ApiError(404, "customer_not_found", "no preloaded customer of this bank matches", f"[{index}]")
        return {"customer_id": None, "activation": "required", "pending_client_id": spec.get("client_id"),
                "pending_phones": [list(p) for p in spec.get("phones", [])] or None}

    return resolve


async def _issue(request: Request, runtime: Runtime, kind: Any, by: str) -> JSONResponse:
    caller = await require_app(request, runtime, "bank")
    items = await parse_body(request, list[kind])
    if not items:
        raise ApiError(400, "invalid_length", "send at least one element", None)
    if len(items) > MAX_BATCH:
        raise ApiError(413, "batch_too_large", f"at most {MAX_BATCH} elements")
    wanted = []
    for index, item in enumerate(items):
        ttl = check_token_spec(index, item.ttl_minutes, item.strong_auth)
        spec: dict[str, Any] = {"ttl": ttl, "strong_auth": item.strong_auth}
        if by == "phones":
            check_phones(_phones(item.phones), f"[{index}].phones")
            spec["phones"] = _phones(item.phones)
        else:
            spec["client_id"] = item.client_id
        wanted.append(spec)
    issued = await runtime.db.run(customer_store.issue_tokens, runtime.db, runtime.clock, runtime.keyring, caller.app,
                                     wanted, _resolver(caller.app, by))
    return JSONResponse([
        {"client_token": secret, "token_type": "client", "expires_at": rfc3339(row["expires_at"]),
         "customer_id": row["customer_id"], "activation": row["activation"]}
        for secret, row in issued
    ])


async def tokens_by_phone(request: Request, runtime: Runtime) -> JSONResponse:
    return await _issue(request, runtime, PhoneTokenIn, "phones")


async def tokens_by_client_id(request: Request, runtime: Runtime) -> JSONResponse:
    return await _issue(request, runtime, ClientIdTokenIn, "client_id")


async def activations(request: Request, runtime: Runtime) -> JSONResponse:
    """A customer accepts the service's terms without a page (independent activation)."""
    secret = bearer_token(request)
    token = await runtime.db.run(customer_store.find_token, runtime.db, runtime.keyring, secret) if secret else None
    if token is None or not token.live(runtime.clock.now()):
        raise ApiError(401, "invalid_token", "send Authorization: Bearer <client token>",
                       headers={"WWW-Authenticate": 'Bearer realm="webview-bridge", error="invalid_token"'})
    body = await parse_body(request, ActivationIn)
    if not body.accept_terms:
        raise ApiError(400, "terms_not_accepted", "accept_terms must be true to activate", "accept_terms")
    bank_app = await runtime.db.run(app_store.get, runtime.db, token.bank_app_id)
    assert bank_app is not None
    customer_id, created = await runtime.db.run(
        customer_store.activate_once, runtime.db, runtime.clock, runtime.keyring, bank_app, token.id)
    activation = "independent" if created or token.activation != "preloaded" else "preloaded"
    return json_response(ActivationOut(customer_id=customer_id, activation=activation), status=201 if created else 200)


routes = [
    ApiRoute("/customers", put_customers, methods=["PUT"], name="put_customers", operation=Operation(
        "Preload or update the bank's customers", auth="bank", body=CustomersIn, responses={200: CustomersOut, 409: None},
        tags=["customers"])),
    ApiRoute("/client-tokens/phone-hash", tokens_by_phone, methods=["POST"], name="tokens_by_phone", operation=Operation(
        "Client tokens for customers named by phone hashes (all or nothing)", auth="bank", body=list[PhoneTokenIn],
        responses={200: list[ClientTokenOut], 404: None, 409: None}, tags=["customers"])),
    ApiRoute("/client-tokens/client-id", tokens_by_client_id, methods=["POST"], name="tokens_by_client_id", operation=Operation(
        "Client tokens for customers named by the bank's client id (all or nothing)", auth="bank",
        body=list[ClientIdTokenIn], responses={200: list[ClientTokenOut], 404: None}, tags=["customers"])),
    ApiRoute("/activations", activations, methods=["POST"], name="activations", operation=Operation(
        "Activate the customer a client token names (independent activation)", auth="client", body=ActivationIn,
        responses={201: ActivationOut, 200: ActivationOut}, tags=["customers"])),
]
