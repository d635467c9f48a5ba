"""Declared JSON operations: the route table carries each endpoint's models, and
/openapi.json is generated from it, so the document cannot drift from the code."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from webview_bridge.errors import ApiError, field_path, from_validation_error
from webview_bridge.routing import Handler, with_runtime
from webview_bridge.wire import ResponseModel, StrictModel  # noqa: F401 - the API's models build on these

T = TypeVar("T")


@dataclass(frozen=True)
class Operation:
    summary: str
    # None: anyone. "app": any app's bearer token. "tpp" / "bank": an app with that role.
    auth: str | None = None
    body: Any = None
    query: type[BaseModel] | None = None
    responses: Mapping[int, Any] = field(default_factory=dict)
    form_body: type[BaseModel] | None = None
    tags: Sequence[str] = ()
    headers: Sequence[str] = ()  # required request headers, e.g. On-Behalf-Of


class ApiRoute(Route):
    """A named JSON operation whose handler takes `(request, runtime)`."""

    def __init__(self, path: str, handler: Handler, *, methods: list[str], name: str, operation: Operation) -> None:
        super().__init__(path, with_runtime(handler), methods=methods, name=name)
        self.operation = operation


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    if kind not in _adapters:
        _adapters[kind] = TypeAdapter(kind)
    return _adapters[kind]


async def parse_body(request: Request, kind: type[T] | Any) -> T:
    """The request body as `kind`, or the protocol's 400 naming what is wrong."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.body()
    try:
        parsed = _adapter(kind).validate_json(raw, strict=True)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    if b"\\u0000" in raw:  # cheap: only a body that may hold an escaped NUL is walked
        _refuse_nul(json.loads(raw), ())
    return parsed


def _refuse_nul(value: Any, where: tuple[int | str, ...]) -> None:
    """No text of this protocol holds a NUL character, and PostgreSQL can neither store nor
    compare one: the first string (or name) that does is refused, by its place in the body."""
    if isinstance(value, str):
        if "\x00" in value:
            field = field_path(where)
            raise ApiError(400, "invalid_value", f"{field or 'body'}: contains a NUL character", field)
    elif isinstance(value, dict):
        for name, item in value.items():
            _refuse_nul(name, (*where, name))
            _refuse_nul(item, (*where, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, (*where, index))


def parse_query(request: Request, kind: type[T]) -> T:
    """Query strings are text, so numbers and booleans are parsed from it (lax), unknown names refused."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise ApiError(400, "invalid_value", f"{name} is given more than once", name)
        params[name] = value
    try:
        return _adapter(kind).validate_python(params, strict=False)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


class _SerializedJSON(JSONResponse):
    """A JSON response whose body pydantic has already written (in Rust, not via json.dumps)."""

    def render(self, content: Any) -> bytes:
        return content


def json_response(model: BaseModel | Sequence[BaseModel], status: int = 200, **kwargs: Any) -> JSONResponse:
    if isinstance(model, BaseModel):
        body = model.model_dump_json().encode()
    else:
        body = b"[" + b",".join(m.model_dump_json().encode() for m in model) + b"]"
    return _SerializedJSON(body, status_code=status, **kwargs)
