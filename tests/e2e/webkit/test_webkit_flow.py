"""The WebView flow in WebKitGTK, embedded the way an iOS app embeds WKWebView: bridge events
reach the `webviewBridge` message handler and the 302 back to the TPP is caught by the app.

Page knowledge stays thin (PROTOCOL §6 accessible names): the screens after the bank selection
are walked in whatever order they come, until the app catches its URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Tpp
from tests.e2e.conftest import callback_params, verify_state
from tests.e2e.webkit.conftest import APP_CALLBACK
from tests.support.webkit import Page

pytestmark = [pytest.mark.browser, pytest.mark.databases("sqlite")]

USERNAME, PASSWORD = "label=Username", "label=Password"


def button(name: str) -> str:
    return f'role=button[name="{name}"]'


def open_request(page: Page, tpp: Tpp, headers: dict[str, str] | None = None, **fields) -> dict:
    stored = tpp.store_request(redirect_url=APP_CALLBACK, **fields)
    opened = page.goto(f"{tpp.server.url}/app/request-token/{stored['id']}", headers=headers)
    assert opened["status"] == 200, opened
    return stored


def snap(page: Page, artifacts: Path, step: int) -> None:
    title = re.sub(r"[^a-z0-9]+", "-", (page.title() or "page").lower()).strip("-")[:40]
    page.screenshot(artifacts / f"{step}-{title}.png")


def choose_bank(page: Page, artifacts: Path, name: str = "Sandbox Bank", submit_search: bool = False) -> None:
    page.wait_for_selector("label=Search banks")
    snap(page, artifacts, 1)
    page.fill("label=Search banks", name)
    if submit_search:  # without JavaScript the search goes to the server (Enter in the field)
        page.submit("label=Search banks")
    # Each bank is a link or a button named by the bank's name (PROTOCOL §6).
    bank = page.wait_for(lambda: next((s for s in (button(name), f'role=link[name="{name}"]') if page.visible(s)), None),
                         timeout=10, what=f"the bank {name!r}")
    page.click(bank)


def finish(page: Page, artifacts: Path, decision: str = "Allow", username: str = "alice") -> str:
    """Answers the consent screen and the sandbox bank's pages (login, its own "Confirm"), in
    whichever order they come, until the app catches its callback URL; returns that URL."""
    screens = [USERNAME, button("Confirm"), button(decision)]
    for step in range(2, 9):
        screen = page.wait_for(lambda: page.redirects() or next((s for s in screens if page.visible(s)), None),
                               timeout=10, what=f"one of {screens} or the app's callback")
        if page.redirects():
            break
        snap(page, artifacts, step)
        if screen == USERNAME:
            page.fill(USERNAME, username)
            page.fill(PASSWORD, "sandbox")
            page.click(button("Log in"))
        else:
            page.click(screen)
    assert len(page.redirects()) == 1, f"{page.redirects()} at {page.url()}: {page.text()[:300]}"
    caught = page.redirects()[0]
    assert caught.startswith(APP_CALLBACK + "?"), caught
    return caught


def came_as_a_302(page: Page, url: str) -> bool:
    """The app heard its URL as the Location of a redirect, not as a link the page followed."""
    return any(n["url"] == url and n["redirect"] for n in page.state()["navigations"])


def assert_bridge_events(page: Page, request_id: str) -> list[str]:
    messages = page.messages()
    assert messages and all(isinstance(m, str) for m in messages), messages  # JSON strings, as WKWebView gets them
    events = page.events()
    assert all(e["type"] == "webview-bridge" and e["request_id"] == request_id for e in events), events
    return [e["event"] for e in events]


def test_the_whole_flow_ends_in_the_app_scheme(webkit, app_tpp, artifacts):
    stored = open_request(webkit, app_tpp)
    choose_bank(webkit, artifacts)
    caught = finish(webkit, artifacts)

    params = callback_params(caught)
    assert params["request-id"] == stored["id"] and params["token-id"].startswith("tt_")
    payload = verify_state(params["state"], app_tpp.creds.callback_secret)
    assert payload["app_id"] == app_tpp.app_id and payload["token_id"] == params["token-id"]
    assert came_as_a_302(webkit, caught)
    assert webkit.url().startswith(app_tpp.server.url)  # the app kept the WebView where it was
    accounts = app_tpp.http.get("/accounts", headers=app_tpp.on_behalf_of(params["token-id"]))
    assert accounts.status_code == 200 and accounts.json()["accounts"]

    names = assert_bridge_events(webkit, stored["id"])
    assert names[0] == "OPEN" and "SELECT_BANK" in names and "CONSENT_GRANTED" in names, names
    assert "CONSENT_DENIED" not in names
    selected = next(e for e in webkit.events() if e["event"] == "SELECT_BANK")
    assert selected["data"] == {"bank_id": "sandbox"}


def test_deny_ends_in_the_app_scheme_with_access_denied(webkit, app_tpp, artifacts):
    stored = open_request(webkit, app_tpp, bank_id="sandbox")
    caught = finish(webkit, artifacts, decision="Deny")

    params = callback_params(caught)
    assert params["request-id"] == stored["id"] and params["error"] == "access_denied"
    assert "token-id" not in params
    assert verify_state(params["state"], app_tpp.creds.callback_secret)["error"] == "access_denied"
    assert came_as_a_302(webkit, caught)
    names = assert_bridge_events(webkit, stored["id"])  # bank_id skips the selection (and its OPEN)
    assert "CONSENT_DENIED" in names and "CONSENT_GRANTED" not in names, names


def test_the_whole_flow_works_with_javascript_off(webkit_without_js, app_tpp, artifacts):
    page = webkit_without_js
    stored = open_request(page, app_tpp)
    choose_bank(page, artifacts, submit_search=True)
    caught = finish(page, artifacts)

    params = callback_params(caught)
    assert params["request-id"] == stored["id"] and params["token-id"].startswith("tt_")
    assert verify_state(params["state"], app_tpp.creds.callback_secret)["token_id"] == params["token-id"]
    assert came_as_a_302(page, caught)
    assert page.messages() == []  # no page script ran, so the bridge stayed silent
    searched = [n for n in page.state()["navigations"] if n["type"] == "form-submitted" and "Sandbox" in n["url"]]
    assert searched, "the search did not go to the server"


def test_a_client_token_on_the_first_load_skips_the_bank_login(webkit, app_tpp, register_app, artifacts):
    bank = Tpp(app_tpp.server, register_app("bank", name="Sandbox Bank app", bank_id="sandbox", independent_activation=True))
    bank.http.put("/customers", json={"customers": [{"client_id": "alice", "phones": []}]})
    answer = bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 10, "client_id": "alice", "strong_auth": True}])
    token = answer.json()[0]["client_token"]
    bank.http.close()

    # A strong_auth token skips the bank's login (PROTOCOL §3, §6): Allow goes straight back to the app.
    open_request(webkit, app_tpp, headers={"Authorization": f"Bearer {token}"}, bank_id="sandbox")
    webkit.wait_for_selector(button("Allow"))
    snap(webkit, artifacts, 1)
    assert not webkit.visible(PASSWORD)
    assert token not in webkit.html() and token not in webkit.url()
    after = webkit.click(button("Allow"))
    assert after["redirects"], f"Allow led to {after['url']} ({after['title']}), not back to the app"
    assert callback_params(after["redirects"][0])["token-id"].startswith("tt_")
