"""Accessibility proven by a checker: axe-core (from npm) over every screen, light and dark,
themed and default, plus the whole flow with the keyboard alone."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.api.test_customizations_api import THEME
from tests.conftest import ARTIFACTS
from tests.support.scripts import load_script
from webview_bridge.i18n import LANGUAGES

statement = load_script("accessibility_statement")

pytestmark = pytest.mark.databases("sqlite")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
from webview_bridge.web.theming import SCREENS  # every screen of the flow, as the theme gallery draws it


def AXE_VERSION() -> str:  # noqa: N802 - read once per record
    return json.loads((AXE.parent / "package.json").read_text())["version"]


@pytest.fixture
def checker(browser, browser_context_args):
    if not AXE.exists():
        raise RuntimeError("axe-core is not installed: run `make test` (npm ci)")
    # The pages' CSP rightly refuses injected scripts; the checker's context bypasses it instead.
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    yield context.new_page()
    context.close()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))""")
    return found


@pytest.mark.parametrize("themed", [False, True], ids=["default", "themed"])
def test_every_screen_has_no_axe_violations_in_every_language_light_and_dark(checker, tpp, themed):
    """Default theme: every screen in every language, light and dark; a TPP's theme: every screen
    in English, light and dark. What was checked is kept for the conformance statement."""
    body = THEME if themed else {"display_name": "Plain TPP"}
    made = tpp.http.post("/customizations", json=body).json()["customization"]["id"]
    link = tpp.http.get(f"/customizations/{made}/preview").json()["url"]
    languages = ("en",) if themed else LANGUAGES
    problems, checked = {}, 0
    for scheme in ("light", "dark"):
        checker.emulate_media(color_scheme=scheme)
        for lang in languages:
            for screen in SCREENS:
                checker.goto(f"{link}/{screen}?scheme={scheme}&lang={lang}")
                found = violations(checker)
                checked += 1
                if found:
                    problems[f"{screen}/{lang}/{scheme}"] = found
    record = ARTIFACTS / f"axe-{'themed' if themed else 'default'}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"axe": AXE_VERSION(), "screens": list(SCREENS), "languages": list(languages),
                                  "schemes": ["light", "dark"], "pages_checked": checked, "violations": problems}))
    assert problems == {}
    variant = "themed" if themed else "default"
    stated = statement.current(variant, statement.STATEMENT.read_text(encoding="utf-8"))
    assert stated == statement.section(variant, json.loads(record.read_text())), (
        "docs/accessibility.md no longer says what axe measured: run `python scripts/accessibility_statement.py`")


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_the_live_flow_pages_have_no_axe_violations(checker, tpp, lang):
    stored = tpp.store_request()
    checker.goto(f"{tpp.server.url}/app/request-token/{stored['id']}?lang={lang}")
    assert violations(checker) == []
    checker.goto(f"{tpp.server.url}/app/request-token/{stored['id']}?country=GB")
    checker.locator("button[value=sandbox]").click()
    assert violations(checker) == []  # our consent screen
    checker.locator("button[value=allow]").click()
    assert violations(checker) == []  # the bank's login
    checker.locator("input[autocomplete=username]").fill("alice")
    checker.locator("input[type=password]").fill("sandbox")
    checker.locator("input[type=password]").press("Enter")
    checker.wait_for_selector("input[type=checkbox]")
    assert violations(checker) == []  # the bank's own consent page


def test_the_whole_flow_works_with_the_keyboard_alone(page, tpp, tpp_site):
    stored = tpp.store_request(description="Keyboard only")
    page.goto(f"{tpp.server.url}/app/request-token/{stored['id']}")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search banks")).to_be_focused()
    page.keyboard.type("sandbox")
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.value") == "sandbox":
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    page.get_by_role("button", name="Allow", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Username")).to_be_visible()
    page.get_by_label("Username").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("sandbox")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_be_visible()
    page.get_by_role("button", name="Confirm", exact=True).focus()
    with page.expect_request(lambda r: r.url.startswith("https://tpp.example/callback?")) as back:
        page.keyboard.press("Enter")
    assert "token-id=tt_" in back.value.url


def test_headings_are_in_order_and_controls_labelled(page, tpp):
    stored = tpp.store_request(bank_id="sandbox")
    page.goto(f"{tpp.server.url}/app/request-token/{stored['id']}")
    levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3,h4')].map(h => +h.tagName[1])")
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:]))
    unlabelled = page.evaluate("""[...document.querySelectorAll('input:not([type=hidden]),select,button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).length""")
    assert unlabelled == 0
