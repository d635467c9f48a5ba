"""The bank's pages in Debian's Chromium on a phone profile, driven by accessible names."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.sandbox_bank.conftest import REDIRECT

pytestmark = [pytest.mark.browser, pytest.mark.databases("sqlite")]


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_login_and_confirm_by_accessible_names_on_a_narrow_phone(page, context, sandbox, tpp, artifacts):
    landed: list[str] = []

    def tpp_site(route):
        landed.append(route.request.url)
        route.fulfill(status=200, body="<!doctype html><title>TPP</title><h1>Back at the TPP</h1>", content_type="text/html")

    context.route("https://tpp.example/**", tpp_site)
    page.set_viewport_size({"width": 320, "height": 640})
    created = tpp.create_consent(brand="Pennywise")
    page.goto(created.json()["_links"]["scaRedirect"]["href"])
    expect(page.get_by_role("heading", name="Log in to Sandbox Bank")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "1-login.png", full_page=True)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page.get_by_role("heading", name="Pennywise via Example Operator wants to see information from Sandbox Bank")).to_be_visible()
    for name in ("Everyday Account", "Euro Savings", "Rewards Card"):
        expect(page.get_by_role("checkbox", name=name, exact=True)).to_be_checked()
    expect(page.get_by_role("button", name="Cancel", exact=True)).to_be_visible()
    assert no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "2-consent.png", full_page=True)
    page.get_by_text("Euro Savings", exact=True).click()  # the whole row is the checkbox's label
    expect(page.get_by_role("checkbox", name="Euro Savings", exact=True)).not_to_be_checked()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("heading", name="Back at the TPP")).to_be_visible()

    assert landed == [REDIRECT]
    consent = tpp.call("GET", f"/v1/consents/{created.json()['consentId']}").json()
    assert consent["consentStatus"] == "valid" and len(consent["access"]["accounts"]) == 2


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


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
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))""")


def test_every_bank_page_passes_axe_light_and_dark(checker, tpp):
    """Login with an error tied to its fields, carol's code with one, the consent page, a message page."""
    problems: dict[str, list[str]] = {}

    def check(name: str) -> None:
        for scheme in ("light", "dark"):
            checker.emulate_media(color_scheme=scheme)
            found = violations(checker)
            if found:
                problems[f"{name}/{scheme}"] = found

    href = tpp.create_consent(brand="Pennywise").json()["_links"]["scaRedirect"]["href"]
    checker.goto(href)
    checker.get_by_label("Username").fill("carol")
    checker.get_by_label("Password").fill("wrong")
    checker.get_by_role("button", name="Log in", exact=True).click()
    expect(checker.get_by_role("alert")).to_have_text("The username or password is not right.")
    check("login-error")
    checker.get_by_label("Password").fill("sandbox")
    checker.get_by_role("button", name="Log in", exact=True).click()
    checker.get_by_label("One-time code").fill("1")
    checker.get_by_role("button", name="Log in", exact=True).click()
    expect(checker.get_by_label("One-time code")).to_have_attribute("aria-invalid", "true")
    check("one-time-code-error")
    checker.get_by_label("One-time code").fill("123456")
    checker.get_by_role("button", name="Log in", exact=True).click()
    expect(checker.get_by_role("checkbox", name="Current Account", exact=True)).to_be_checked()
    check("consent")
    checker.goto(href[:-4] + "AAAA")
    check("unknown-link")
    assert problems == {}
