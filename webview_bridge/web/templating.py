"""The page renderer: built-in templates, overridable by name from the operator's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from webview_bridge.resources import TEMPLATES_DIR

# Page paths answer errors with a page; everything else answers JSON.
PAGE_PREFIXES = ("/app/", "/demo", "/sandbox-bank/")


def is_page_path(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


def make_templates(override_dir: Path | None) -> Jinja2Templates:
    folders = [str(override_dir)] if override_dir else []
    loader = jinja2.FileSystemLoader([*folders, str(TEMPLATES_DIR)])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]), auto_reload=False)
    return Jinja2Templates(env=env)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context or {}, status_code=status)
