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
    page.click(button(name))


def finish(page: Page, artifacts: Path, decision: str = "Allow", username: str = "alice") -> str:
    """Logs in at the sandbox bank and answers the consent screen, in whichever order they come,
    until the app catches its callback URL; returns that URL."""
    for step in range(2, 8):
        page.wait_for(lambda: page.redirects() or page.visible(USERNAME) or page.visible(button(decision)),
                      timeout=10, what=f"the bank's login, the {decision} button or the app's callback")
        if page.redirects():
            break
        snap(page, artifacts, step)
        if page.visible(USERNAME):
            page.fill(USERNAME, username)
            page.fill(PASSWORD, "sandbox")
            page.click(button("Log in"))
        else:
            page.click(button(decision))
    [caught] = page.redirects()
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
    assert any("search=" in n["url"] for n in page.state()["navigations"])  # the search went to the server


def test_the_client_token_rides_on_the_first_load_only(webkit, app_tpp, register_app, artifacts):
    bank = Tpp(app_tpp.server, register_app("bank", name="Sandbox Bank app", bank_id="sandbox", independent_activation=True))
    bank.http.put("/customers", json={"customers": [{"client_id": "alice", "phones": []}]})
    answer = bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 10, "client_id": "alice", "strong_auth": True}])
    token = answer.json()[0]["client_token"]
    bank.http.close()

    open_request(webkit, app_tpp, headers={"Authorization": f"Bearer {token}"}, bank_id="sandbox")
    webkit.wait_for_selector(button("Allow"))
    snap(webkit, artifacts, 1)
    assert "Logged in as Alice Andersson" in webkit.text()
    assert not webkit.visible(PASSWORD)
    assert token not in webkit.html() and token not in webkit.url()
    webkit.click(button("Allow"))
    [caught] = webkit.wait_for(webkit.redirects, timeout=10, what="the app's callback")
    assert callback_params(caught)["token-id"].startswith("tt_")
