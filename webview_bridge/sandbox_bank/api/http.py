"""The Berlin Group API's HTTP edge: every call passes through `xs2a_endpoint`, which finds the
bank, checks X-Request-ID (and, in validating mode, the whole request against the official file),
turns a Refusal into the file's error body, echoes X-Request-ID, and in validating mode holds the
answer to the file too, so a sandbox answer that drifts from the standard fails a test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

# openapi-core itself is imported only when a check first runs (validating mode).
from webview_bridge.banks.xs2a.openapi import Exchange, NonConformance, check_request, check_response
from webview_bridge.sandbox_bank.api.errors import error_response
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.errors import Refusal
from webview_bridge.sandbox_bank.special_banks import is_unavailable


@dataclass
class Conformance:
    """What the validating mode found wrong with the sandbox's own answers (tests assert it stays empty)."""

    failures: list[str] = field(default_factory=list)


@dataclass
class Call:
    """One API call as a handler sees it."""

    request: Request
    config: SandboxConfig
    bank: Any
    api_path: str  # from /v1 on, as the file names paths
    body: bytes
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()

    def header(self, name: str) -> str | None:
        value = self.request.headers.get(name, "").strip()
        return value or None

    @property
    def psu_ip_address(self) -> str | None:
        """Present only when the customer triggered the call (the file's rule for AIS)."""
        return self.header("PSU-IP-Address")

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def link(self, path: str, query: dict[str, str] | None = None) -> str:
        """An absolute href under this bank, as the TPP will follow it."""
        url = f"{self.config.public_url}/{self.bank.id}{path}"
        return f"{url}?{urlencode(query)}" if query else url

    @cached_property
    def json(self) -> Any:
        content_type = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refusal("FORMAT_ERROR", "the body must be sent as application/json")
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Refusal("FORMAT_ERROR", "the body is not valid JSON") from None


Handler = Callable[[Call], Awaitable[Response]]


def _api_path(request: Request, bank_id: str) -> str:
    prefix = f"{request.scope.get('root_path', '')}/{bank_id}"
    path: str = request.scope["path"]
    return path[len(prefix):] if path.startswith(prefix) else path[path.index("/v1/"):]


def _query(request: Request) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key not in found:
            found[key] = value
        else:
            previous = found[key]
            found[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return found


def request_id(request: Request) -> str | None:
    given = request.headers.get("x-request-id", "")
    try:
        return str(uuid.UUID(given)) if given else None
    except ValueError:
        return None


def xs2a_endpoint(config: SandboxConfig, conformance: Conformance, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        bank_id = request.path_params["bank_id"]
        body = await request.body()
        api_path = _api_path(request, bank_id)
        given_id = request_id(request)
        exchange = None
        if config.validate:
            exchange = Exchange(request.method, api_path, _query(request), dict(request.headers), body or None)
        try:
            bank = config.bank(bank_id)
            if bank is None:
                raise Refusal("RESOURCE_UNKNOWN", f"no bank {bank_id!r} here")
            if given_id is None:
                raise Refusal("FORMAT_ERROR", "X-Request-ID must be a UUID", "X-Request-ID")
            if exchange is not None:
                _check_request(exchange)
            if is_unavailable(bank):
                raise Refusal("SERVICE_UNAVAILABLE", f"{bank.name} is not available right now", retry_after=3600)
            response = await handler(Call(request, config, bank, api_path, body, config.clock.now()))
        except Refusal as refusal:
            response = error_response(refusal)
        # The file requires X-Request-ID on every answer: the caller's, or a fresh one for a call without it.
        response.headers["X-Request-ID"] = given_id or str(uuid.uuid4())
        if exchange is not None:
            _check_response(exchange, response, conformance)
        return response

    return endpoint


def _check_request(exchange: Exchange) -> None:
    try:
        check_request(exchange)
    except NonConformance as exc:
        raise Refusal("FORMAT_ERROR", f"the request does not conform to NextGenPSD2 1.3.11: {exc}") from None


def _check_response(exchange: Exchange, response: Response, conformance: Conformance) -> None:
    try:
        check_response(replace(exchange, status=response.status_code, response_headers=dict(response.headers),
                                response_body=bytes(response.body)))
    except NonConformance as exc:
        conformance.failures.append(str(exc))
        raise
