"""OpenAPI 3.1, generated from the declared operations in the route table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from starlette.routing import BaseRoute, Mount

from webview_bridge import __version__
from webview_bridge.api.operations import ApiRoute, Operation

REF = "#/components/schemas/{model}"
_CONVERTOR = re.compile(r"{([^}:]+):[^}]+}")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


class OAuthError(BaseModel):
    error: str
    error_description: str | None = None


def _walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, ApiRoute]]:
    for route in routes:
        if isinstance(route, ApiRoute):
            yield prefix + route.path, route
        elif isinstance(route, Mount):
            yield from _walk(route.routes, prefix + route.path)


class _Schemas:
    """Collects component schemas, one per named model, referenced from operations."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, kind: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(kind).json_schema(ref_template=REF, mode=mode, schema_generator=GenerateJsonSchema)
        self.components.update(schema.pop("$defs", {}))
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            self.components[kind.__name__] = schema
            return {"$ref": REF.format(model=kind.__name__)}
        return schema


def _operation(op: Operation, path: str, method: str, schemas: _Schemas) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary, "operationId": f"{method}_{path}".replace("/", "_").strip("_")}
    if op.tags:
        out["tags"] = list(op.tags)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([^}]+)}", path)
    ]
    parameters += [{"name": name, "in": "header", "required": True, "schema": {"type": "string"}} for name in op.headers]
    if op.query is not None:
        query_schema = TypeAdapter(op.query).json_schema(ref_template=REF)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": schemas.ref(op.body, "validation")}}}
    if op.form_body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schemas.ref(op.form_body, "validation")}},
        }
    error_model = OAuthError if op.form_body is not None else ErrorEnvelope
    error = {"content": {"application/json": {"schema": schemas.ref(error_model, "serialization")}}}
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        entry: dict[str, Any] = {"description": "success" if status < 400 else "error"}
        if model is not None:
            entry["content"] = {"application/json": {"schema": schemas.ref(model, "serialization")}}
        elif status >= 400:
            entry.update(error)
        responses[str(status)] = entry
    # Any operation refuses a NUL character in its path or query as bad input.
    problems = {400: "bad input", 413: "body too large", 429: "rate limited"}
    if op.body is not None:
        problems[415] = "not JSON"
    if op.auth is not None:
        problems[401] = "no or bad credentials"
        out["security"] = [{"bearerAuth": []}]
    if op.auth not in (None, "app"):
        problems[403] = "authenticated but not allowed"
    if "{" in path or op.headers:
        problems[404] = "no such object for this caller"
    if op.headers:
        problems[400] = "bad input (including a missing or malformed required header)"
    if op.form_body is not None:
        problems[401] = "client authentication failed"
    for status, description in problems.items():
        responses.setdefault(str(status), {"description": description, **error})
    out["responses"] = responses
    return out


def build_openapi(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for raw_path, route in _walk(routes):
        path = _CONVERTOR.sub(r"{\1}", raw_path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(route.operation, path, method.lower(), schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "webview-bridge", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "basicAuth": {"type": "http", "scheme": "basic"},
            },
        },
    }
