"""mkdocs hook: renders api/reference.md at build time from the OpenAPI document the server serves
at GET /openapi.json, asked of the app in-process. Nothing generated is committed, so the page
describes exactly the route table of the code it is built from.

The document says who may call an operation only as "bearer token or not"; the role an operation
needs (tpp, bank, any app, a client token) is read from the same route table's declarations."""

from __future__ import annotations

import html
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PAGE = "api/reference.md"
STATUS_TEXT = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 409: "Conflict", 410: "Gone", 413: "Content Too Large", 415: "Unsupported Media Type",
    429: "Too Many Requests", 503: "Service Unavailable",
}
AUTH = {
    None: "none",
    "app": "`Authorization: Bearer <access token>` of any app",
    "tpp": "`Authorization: Bearer <access token>` of an app with the `tpp` role",
    "bank": "`Authorization: Bearer <access token>` of an app with the `bank` role",
    "client": "`Authorization: Bearer <client token>` (issued to a bank app for its customer)",
}
TAG_TITLES = {"oauth": "OAuth", "apps": "Apps"}
CLIENT_AUTH = ("client authentication: HTTP Basic `app_id:app_secret`, or `client_id` and `client_secret` "
               "in the form (one method per request)")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    document, roles = served_openapi()
    files.append(File.generated(config, PAGE, content=render(document, roles)))
    return files


# --- the document, as served ------------------------------------------------------------------

def served_openapi() -> tuple[dict[str, Any], dict[tuple[str, str], str | None]]:
    """GET /openapi.json of an app built as `serve` builds it (on a throwaway SQLite file), and the
    role each (METHOD, path) needs from the same app's route table."""
    from starlette.testclient import TestClient

    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(database_url=f"sqlite:///{folder}/openapi.db", worker=False))
        try:
            answer = TestClient(app).get("/openapi.json")
            answer.raise_for_status()
            roles = dict(_roles(app.routes))
        finally:
            app.state.runtime.close()
    return answer.json(), roles


def _roles(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[tuple[str, str], str | None]]:
    from starlette.routing import Mount

    from webview_bridge.api.operations import ApiRoute

    for route in routes:
        if isinstance(route, ApiRoute):
            path = prefix + route.path
            for method in route.methods or ():
                yield (method, _plain(path)), route.operation.auth
        elif isinstance(route, Mount):
            yield from _roles(route.routes, prefix + route.path)


def _plain(path: str) -> str:
    """/x/{id:str} -> /x/{id}, as the document writes paths."""
    import re

    return re.sub(r"{([^}:]+):[^}]+}", r"{\1}", path)


# --- markdown ---------------------------------------------------------------------------------

def render(document: dict[str, Any], roles: dict[tuple[str, str], str | None]) -> str:
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            tag = (operation.get("tags") or ["service"])[0]
            groups.setdefault(tag, []).append((method.upper(), path, operation))
    out = [
        "# HTTP API reference",
        "",
        f"Every JSON operation of webview-bridge {document['info']['version']}, rendered from the OpenAPI "
        f"{document['openapi']} document the server itself serves at `GET /openapi.json` when this site was built. "
        "Authentication, errors, paging and rate limits work the same everywhere: see [Conventions](index.md).",
        "",
        "| operation | summary | auth |",
        "|---|---|---|",
    ]
    for tag, operations in groups.items():
        for method, path, operation in operations:
            out.append(f"| [`{method} {path}`](#{_anchor(method, path)}) | {_cell(operation.get('summary', ''))} "
                       f"| {_role_word(roles.get((method, path)), operation)} |")
    out.append("")
    for tag, operations in groups.items():
        title = TAG_TITLES.get(tag, tag[:1].upper() + tag[1:])
        out += [f"## {title} {{#{_slug(tag)}}}", ""]
        for method, path, operation in operations:
            out += _operation(method, path, operation, roles.get((method, path)), document["components"]["schemas"])
    out += ["## Schemas {#schemas}", "",
            "Request bodies refuse unknown fields and take types strictly (`true` and `\"60\"` are not integers).", ""]
    for name, schema in document["components"]["schemas"].items():
        out += _schema(name, schema)
    return "\n".join(out) + "\n"


def _operation(method: str, path: str, operation: dict[str, Any], role: str | None,
               components: dict[str, Any]) -> list[str]:
    out = [f"### `{method} {path}` {{#{_anchor(method, path)}}}", "", operation.get("summary", ""), ""]
    out += [f"**Auth:** {_auth(role, operation)}", ""]
    parameters = operation.get("parameters", [])
    for where, title in (("path", "Path parameters"), ("header", "Headers"), ("query", "Query parameters")):
        chosen = [p for p in parameters if p["in"] == where]
        if not chosen:
            continue
        out += [f"**{title}**", "", "| name | type | required | notes |", "|---|---|---|---|"]
        for p in chosen:
            schema = p.get("schema", {})
            out.append(f"| `{p['name']}` | {_type(schema)} | {'yes' if p.get('required') else 'no'} | {_notes(schema)} |")
        out.append("")
    body = operation.get("requestBody")
    if body:
        for media, content in body["content"].items():
            out += [f"**Request body** (`{media}`): {_type(content['schema'])}", ""]
            out += _fields(_named(content["schema"], components))
    out += ["**Responses**", "", "| status | meaning | body |", "|---|---|---|"]
    for status, response in sorted(operation["responses"].items()):
        content = response.get("content", {})
        shape = ", ".join(_type(c["schema"]) for c in content.values()) or "—"
        description = response.get("description", "")
        meaning = description if description not in ("", "success", "error") else STATUS_TEXT.get(int(status), "")
        out.append(f"| {status} | {_cell(meaning)} | {shape} |")
    out.append("")
    return out


def _named(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The object a body is: its $ref followed, through an array's items (batch bodies)."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    if "$ref" in schema:
        return components.get(schema["$ref"].rsplit("/", 1)[1], {})
    return schema


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name} {{#{_schema_anchor(name)}}}", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    properties = schema.get("properties")
    if schema.get("type") != "object" or properties is None:
        return out + [f"Type: {_type({k: v for k, v in schema.items() if k not in ('title', 'description')})}", ""]
    return out + _fields(schema)


def _fields(schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties")
    if not properties:
        return []
    required = set(schema.get("required", []))
    out = ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, spec in properties.items():
        out.append(f"| `{field}` | {_type(spec)} | {'yes' if field in required else 'no'} | {_notes(spec)} |")
    return out + [""]


def _auth(role: str | None, operation: dict[str, Any]) -> str:
    if operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded"):
        return CLIENT_AUTH
    if role is None and operation.get("security"):
        return "`Authorization: Bearer <access token>`"
    return AUTH.get(role, f"`{role}`")


def _role_word(role: str | None, operation: dict[str, Any]) -> str:
    if operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded"):
        return "client credentials"
    return {None: "none" if not operation.get("security") else "bearer", "app": "any app",
            "client": "client token"}.get(role, f"`{role}`")


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[`{name}`](#{_schema_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(_type(part) for part in schema[key]))
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(v) if not isinstance(v, str) else v}`" for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"object of {_type(extra)}" if isinstance(extra, dict) and extra else "object"
    if kind:
        return f"{kind} ({schema['format']})" if "format" in schema else str(kind)
    return "any"


def _notes(schema: dict[str, Any]) -> str:
    """Constraints, default and description, from the schema and any nullable branch of it."""
    parts: list[str] = []
    branches = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    for branch in branches:
        for key, word in (("minLength", "min length"), ("maxLength", "max length"), ("minimum", "≥"),
                          ("maximum", "≤"), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"),
                          ("minItems", "min items"), ("maxItems", "max items")):
            if key in branch:
                parts.append(f"{word} {branch[key]}")
        if "pattern" in branch:
            parts.append(f"pattern {_code(branch['pattern'])}")
    if "default" in schema and schema["default"] is not None:
        parts.append(f"default {_code(json.dumps(schema['default']))}")
    if schema.get("description"):
        parts.append(_cell(schema["description"]))
    return "; ".join(parts)


def _code(text: str) -> str:
    """Code inside a table cell: as HTML, since a backslash before a pipe would show in a code span."""
    return "<code>" + html.escape(text, quote=False).replace("|", "&#124;") + "</code>"


def _cell(text: str) -> str:
    """Safe inside a table cell: pipes escaped, HTML shown as text, one line."""
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _anchor(method: str, path: str) -> str:
    return _slug(f"{method} {path}").replace("--", "-")


def _schema_anchor(name: str) -> str:
    return "schema-" + name.lower()
