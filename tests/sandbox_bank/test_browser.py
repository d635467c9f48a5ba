"""The bank's pages in Debian's Chromium on a phone profile, driven by accessible names."""

from __future__ import annotations

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
