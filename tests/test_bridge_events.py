"""The bridge events have one description: webview_bridge/bridge_events.schema.json. The pages
may post no event it lacks, the TypeScript declarations are generated from it and type-check,
the server serves it, and what a real flow posts in Chromium validates against it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.testclient import TestClient

from webview_bridge.web import bridge_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "webview_bridge" / "bridge_events.schema.json"
SDK = ROOT / "sdk" / "typescript"
DECLARATIONS = SDK / "bridge-events.d.ts"
NODE_BIN = ROOT / "node_modules" / ".bin"
# The one command that makes sdk/typescript/bridge-events.d.ts (also in sdk/typescript/README.md).
JSON2TS_OPTIONS = ("--unknownAny",)


def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def schema_events() -> dict[str, dict]:
    """Event name -> the schema of its `data`."""
    found = {}
    defs = schema()["$defs"]
    for ref in schema()["oneOf"]:
        message = defs[ref["$ref"].rsplit("/", 1)[1]]
        data_ref = message["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        found[message["properties"]["event"]["const"]] = defs[data_ref]
    return found


def events_the_pages_post() -> dict[str, set[str]]:
    """Every event name the bridge script, the templates and the server's page contexts use, and where."""
    used: dict[str, set[str]] = {}

    def note(name: str, where: Path) -> None:
        used.setdefault(name, set()).add(str(where.relative_to(ROOT)))

    script = ROOT / "static" / "bridge.js"
    for name in re.findall(r'(?:post\(\s*|[!=]==\s*)"([A-Z][A-Z_]*)"', script.read_text(encoding="utf-8")):
        note(name, script)
    for template in sorted((ROOT / "templates").glob("*.html")):
        for name in re.findall(r'data-wvb-(?:click|event)="([A-Z_]+)"', template.read_text(encoding="utf-8")):
            note(name, template)
    for module in sorted((ROOT / "webview_bridge").rglob("*.py")):
        for expression in re.findall(r'"event"\s*:\s*([^,}\n]+)', module.read_text(encoding="utf-8")):
            for name in re.findall(r'"([A-Z][A-Z_]*[A-Z])"', expression):
                note(name, module)
    return used


def node_tool(name: str) -> Path:
    tool = NODE_BIN / name
    if not tool.exists():
        raise RuntimeError(f"{name} is not installed: run `make test` (npm ci)")
    return tool


# --- the schema -------------------------------------------------------------------------------

def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_event_the_pages_post_is_in_the_schema_and_none_other():
    used = events_the_pages_post()
    assert {"OPEN", "SELECT_BANK", "OPEN_EXTERNAL", "EXIT"} <= set(used), used  # the scan finds them at all
    undocumented = {name: sorted(where) for name, where in used.items() if name not in schema_events()}
    assert not undocumented, f"events posted but missing from {SCHEMA_FILE.name}: {undocumented}"
    unused = set(schema_events()) - set(used)
    assert not unused, f"events in {SCHEMA_FILE.name} that nothing posts: {sorted(unused)}"


def test_messages_shaped_as_the_bridge_script_builds_them_validate():
    validator = Draft202012Validator(schema())

    def message(event: str, data: dict, request_id: str | None = "rq_AbC-12_x") -> dict:
        return {"type": "webview-bridge", "event": event, "request_id": request_id, "data": data}

    good = [
        message("OPEN", {}),
        message("SELECT_BANK", {"bank_id": "sandbox"}),
        message("OPEN_EXTERNAL", {"url": "https://bank.example/authorise?x=1"}),
        message("CONSENT_GRANTED", {}),
        message("CONSENT_DENIED", {}),
        message("ERROR", {"code": "bank_unavailable"}),
        message("ERROR", {}),
        message("EXIT", {}),
        message("EXIT", {"token_id": "tt_abc", "error": None}, request_id=None),
        message("EXIT", {"token_id": None, "error": "access_denied"}, request_id=None),
    ]
    for item in good:
        assert not list(validator.iter_errors(item)), item
    bad = [
        message("SELECT_BANK", {}),
        message("OPEN_EXTERNAL", {"bank_id": "nordlicht"}),
        message("NOT_AN_EVENT", {}),
        {**message("OPEN", {}), "type": "something-else"},
        {"type": "webview-bridge", "event": "OPEN", "data": {}},
    ]
    for item in bad:
        assert list(validator.iter_errors(item)), item


# --- TypeScript -------------------------------------------------------------------------------

def test_the_typescript_declarations_are_generated_from_the_schema(tmp_path):
    generated = tmp_path / "bridge-events.d.ts"
    subprocess.run(
        [node_tool("json2ts"), "-i", SCHEMA_FILE, "-o", generated, *JSON2TS_OPTIONS],
        check=True, capture_output=True, cwd=ROOT,
    )
    assert DECLARATIONS.read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), (
        f"{DECLARATIONS.relative_to(ROOT)} is out of date: regenerate it (see sdk/typescript/README.md)")


def test_the_typescript_example_type_checks_against_the_declarations():
    done = subprocess.run([node_tool("tsc"), "-p", SDK, "--noEmit"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


# --- serving and shipping ---------------------------------------------------------------------

def test_the_schema_is_served_as_shipped():
    with TestClient(Starlette(routes=bridge_schema.routes)) as client:
        answer = client.get("/bridge-events.schema.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/schema+json")
    assert answer.json() == schema()


def test_the_server_serves_the_schema(tmp_path):
    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/server.db", worker=False))
    try:
        answer = TestClient(app).get("/bridge-events.schema.json")
        assert answer.status_code == 200 and answer.json() == schema()
    finally:
        app.state.runtime.close()


def test_the_wheel_carries_the_schema():
    from hatchling.builders.wheel import WheelBuilder

    shipped = {f.distribution_path for f in WheelBuilder(str(ROOT)).recurse_included_files()}
    assert "webview_bridge/bridge_events.schema.json" in shipped


# --- what a real flow posts -------------------------------------------------------------------

CAPTURE = "window.WebViewBridgeAndroid = {postMessage: function (m) { window.captureBridgeMessage(m); }};"


@pytest.mark.browser
@pytest.mark.databases("sqlite")
def test_what_the_pages_post_in_chromium_validates_against_the_schema(browser, browser_context_args, tpp):
    """Through the Android channel (a JSON string, as every native channel gets it): a granted flow,
    a denial, a bank whose login opens outside, a bank that is down, a cancel and an unknown link."""
    validator = Draft202012Validator(schema())
    received: list[str] = []
    context = browser.new_context(**browser_context_args)
    context.route("https://tpp.example/**", lambda r: r.fulfill(status=200, body="TPP", content_type="text/html"))
    context.expose_function("captureBridgeMessage", lambda text: received.append(text))
    context.add_init_script(CAPTURE)
    base = tpp.server.url

    def fresh_page(**fields):
        page = context.new_page()
        stored = tpp.store_request(**fields)
        page.goto(f"{base}/app/request-token/{stored['id']}")
        return page

    page = fresh_page()  # granted
    page.get_by_role("button", name="Sandbox Bank", exact=True).click()
    page.get_by_role("button", name="Allow", exact=True).click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    page.close()

    page = fresh_page(bank_id="sandbox")  # denied on the consent screen
    page.get_by_role("button", name="Deny", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    page.close()

    page = fresh_page(bank_id="nordlicht")  # the bank's login opens outside the WebView
    page.get_by_role("button", name="Allow", exact=True).click()
    page.get_by_role("link", name="Continue in your bank's app").click()
    page.close()

    page = fresh_page(bank_id="citta-eterna")  # the bank is down
    page.get_by_role("button", name="Allow", exact=True).click()
    page.wait_for_function("document.body.getAttribute('data-wvb-event') === 'ERROR'")
    page.close()

    page = fresh_page()  # the customer leaves at the selection
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    page.close()

    page = context.new_page()  # a link that does not work
    page.goto(f"{base}/app/request-token/rq_does-not-exist")
    page.close()
    context.close()

    messages = [json.loads(text) for text in received]
    for message in messages:
        assert not [e.message for e in validator.iter_errors(message)], message
    seen = {m["event"] for m in messages}
    assert seen == {"OPEN", "SELECT_BANK", "CONSENT_GRANTED", "CONSENT_DENIED", "OPEN_EXTERNAL", "ERROR", "EXIT"}, seen
    assert {"code": "bank_unavailable"} in [m["data"] for m in messages if m["event"] == "ERROR"]
    assert next(m for m in messages if m["event"] == "OPEN_EXTERNAL")["data"]["url"].startswith("http")
