"""The documentation builds without a warning (a broken link or anchor fails), its API reference
is rendered from the served OpenAPI document, and what it shows is true: every setting in the
code is on the settings page, every test the security page cites exists, the README's links stay
inside the repository, and the Python it shows runs against a live server."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from itsdangerous import BadSignature, SignatureExpired

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def block_with(page: Path, marker: str) -> str:
    (found,) = [b for b in python_blocks(page) if marker in b]
    return found


# --- the site ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    started = time.monotonic()
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    assert "WARNING" not in output, output
    print(f"docs built in {time.monotonic() - started:.1f} s")
    return folder


def test_the_docs_build_strictly_without_a_warning(site):
    for page in ("index.html", "getting-started/index.html", "protocol/index.html", "embedding/flutter/index.html",
                 "operating/settings/index.html", "security/index.html", "benchmarks/index.html"):
        assert (site / page).is_file(), page


def test_the_api_reference_is_rendered_from_the_served_openapi_document(site, tmp_path):
    from starlette.testclient import TestClient

    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/served.db", worker=False))
    try:
        served = TestClient(app).get("/openapi.json").json()
    finally:
        app.state.runtime.close()
    reference = (site / "api" / "reference" / "index.html").read_text(encoding="utf-8")
    for path, operations in served["paths"].items():
        for method in operations:
            assert f"{method.upper()} {path}" in reference, f"{method.upper()} {path} is missing from the reference"
    for schema in served["components"]["schemas"]:
        assert f'id="schema-{schema.lower()}"' in reference, schema
    assert not (DOCS / "api" / "reference.md").exists(), "the reference is generated at build time, never committed"


# --- what the pages say is true ---------------------------------------------------------------

def test_every_setting_the_code_reads_is_on_the_settings_page():
    code = (ROOT / "webview_bridge" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'ENV_PREFIX \+ "([A-Z_]+)"', code))
    names |= set(re.findall(r'_(?:int_env|json_setting)\(env, "([A-Z_]+)"', code))
    assert {"DATABASE_URL", "PUBLIC_URL", "SECRET_KEYS", "FORWARDED_ALLOW_IPS"} <= names, names  # the scan works
    page = (DOCS / "operating" / "settings.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"`WEBVIEW_BRIDGE_{n}`" not in page)
    assert not missing, f"settings missing from docs/operating/settings.md: {missing}"


def test_every_test_the_security_page_cites_exists():
    page = (DOCS / "security.md").read_text(encoding="utf-8")
    cited: list[tuple[str, str | None]] = []
    for row in page.splitlines():
        current = None
        for file, name, bare in re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`", row):
            if file:
                current = file
                cited.append((file, name or None))
            elif current:
                cited.append((current, bare))
    assert len(cited) > 40, cited  # the scan works
    missing = []
    for file, name in cited:
        path = ROOT / file
        if not path.is_file() or (name and not re.search(rf"^\s*(?:async )?def {name}\(", path.read_text(), re.M)):
            missing.append(f"{file}::{name}" if name else file)
    assert not missing, f"docs/security.md cites tests that do not exist: {missing}"
    modules = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", page)) - {f for f, _ in cited}
    absent = sorted(m for m in modules if not m.startswith("tests/") and not (ROOT / "webview_bridge" / m).is_file()
                    and not (ROOT / m).is_file())
    assert not absent, f"docs/security.md names modules that do not exist: {absent}"


def test_the_readme_links_only_inside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r'src="([^"]+)"', readme)
    assert targets, "the README links into the docs"
    for target in targets:
        assert "://" not in target and not target.startswith("/"), f"README links outside the repository: {target}"
        resolved = (ROOT / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), f"README links to a missing file: {target}"


def test_the_state_verification_shown_in_the_protocol_page_works(monkeypatch):
    from webview_bridge.security.callback_state import sign_callback_state

    namespace: dict = {}
    exec(block_with(DOCS / "protocol.md", "def verify_state"), namespace)
    verify_state = namespace["verify_state"]
    old, new = "an-older-callback-secret", "the-newest-callback-secret"
    csrf = "the-csrf-token-this-browser-was-given"
    state = sign_callback_state(
        [old, new], app_id="app_1", request_id="rq_1", token_id="tt_1", callback_state=None,
        csrf_token_hash=hashlib.sha256(csrf.encode()).hexdigest(), error=None)
    assert verify_state(state, [old, new], "app_1", csrf)["token_id"] == "tt_1"
    assert verify_state(state, [new], "app_1", csrf)["request_id"] == "rq_1"
    for secrets, app_id, token in (([old], "app_1", csrf), ([old, new], "app_2", csrf), ([old, new], "app_1", "x" * 20)):
        with pytest.raises(BadSignature):
            verify_state(state, secrets, app_id, token)
    from itsdangerous.timed import TimestampSigner

    later = int(time.time()) + 601
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    with pytest.raises(SignatureExpired):
        verify_state(state, [old, new], "app_1", csrf)


@pytest.mark.databases("sqlite")
def test_the_python_the_docs_show_runs_against_a_live_server(server, register_app):
    from tests.support.customer import Customer

    creds = register_app("tpp", redirect_urls=("http://127.0.0.1:9000/callback",))
    namespace = {"APP_ID": creds.app_id, "APP_SECRET": creds.app_secret}

    def run(code: str) -> str:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code.replace("http://127.0.0.1:8000", server.url), namespace)
        return printed.getvalue()

    readme = run(block_with(ROOT / "README.md", "BridgeClient("))
    assert re.search(r"/app/request-token/rq_[\w-]+$", readme.strip()), readme

    started = run(block_with(DOCS / "getting-started.md", "BridgeClient("))
    assert started.strip() == namespace["created"].url
    person = Customer(server.url)
    try:
        consent = person.to_consent(namespace["created"].url, "sandbox")
        login = person.bank_login(person.decide(consent, "allow"), "alice")
        person.back_from_bank(person.submit(login, "Confirm"))
    finally:
        person.close()
    read = run(block_with(DOCS / "getting-started.md", "get_token_request_result"))
    lines = read.strip().splitlines()
    assert [line.rsplit(" ", 2)[0] for line in lines] == ["Everyday Account", "Euro Savings", "Rewards Card"], read
    assert all(re.fullmatch(r".+ -?\d+\.\d{2} [A-Z]{3}", line) for line in lines), read
    namespace["client"].close()


def test_the_bridge_schema_the_docs_show_is_the_shipped_one(site):
    page = (site / "embedding" / "index.html").read_text(encoding="utf-8")
    assert "OpenExternalMessage" in page and "parseBridgeMessage" in page  # both TypeScript files, included
    assert json.loads((ROOT / "webview_bridge" / "bridge_events.schema.json").read_text())["title"] == "BridgeMessage"
