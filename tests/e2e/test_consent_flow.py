"""Every path of the WebView flow, driven in Debian's Chromium on a Pixel 7 profile."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import callback_params, verify_state

pytestmark = pytest.mark.databases("sqlite")


def open_request(page, tpp, **fields):
    stored = tpp.store_request(**fields)
    page.goto(f"{tpp.server.url}/app/request-token/{stored['id']}")
    return stored


def log_in(page, username="alice", password="sandbox"):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def allow(page):
    """Allow on our consent screen: on to the bank's login."""
    page.get_by_role("button", name="Allow", exact=True).click()


def at_bank(page, username="alice"):
    """Log in at the sandbox bank and confirm its own consent page with every account ticked."""
    log_in(page, username)
    page.get_by_role("button", name="Confirm", exact=True).click()


def test_approve_with_a_subset_of_accounts(page, tpp, tpp_site, artifacts):
    stored = open_request(page, tpp, description="Budgeting with Pennywise")
    expect(page.get_by_role("heading", name="Choose your bank")).to_be_visible()
    page.screenshot(path=artifacts / "1-bank-selection.png", full_page=True)
    page.get_by_label("Search banks").fill("sandbox")
    page.get_by_role("button", name="Sandbox Bank", exact=True).click()
    expect(page.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    expect(page.get_by_text("Budgeting with Pennywise")).to_be_visible()
    expect(page.get_by_text("See your balances")).to_be_visible()
    page.screenshot(path=artifacts / "2-consent.png", full_page=True)
    allow(page)
    expect(page.get_by_role("heading", name="Log in to Sandbox Bank")).to_be_visible()
    page.screenshot(path=artifacts / "3-bank-login.png", full_page=True)
    log_in(page)
    expect(page.get_by_role("checkbox", name="Euro Savings", exact=True)).to_be_checked()
    page.get_by_role("checkbox", name="Euro Savings", exact=True).uncheck()
    page.screenshot(path=artifacts / "4-bank-consent.png", full_page=True)
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    params = callback_params(page.url)
    assert params["request-id"] == stored["id"]
    payload = verify_state(params["state"], tpp.creds.callback_secret)
    assert payload["token_id"] == params["token-id"] and payload["app_id"] == tpp.app_id
    names = [a["name"] for a in tpp.http.get("/accounts", headers=tpp.on_behalf_of(params["token-id"])).json()["accounts"]]
    assert names == ["Everyday Account", "Rewards Card"]


@pytest.mark.parametrize("where", ["consent", "bank"])
def test_deny_here_or_cancel_at_the_bank(page, tpp, tpp_site, where):
    open_request(page, tpp, bank_id="sandbox")
    if where == "consent":
        page.get_by_role("button", name="Deny", exact=True).click()
    else:
        allow(page)
        log_in(page)
        page.get_by_role("button", name="Cancel", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    assert callback_params(page.url)["error"] == "access_denied"


def test_bank_id_skips_selection_and_carol_enters_her_code(page, tpp, tpp_site, artifacts):
    open_request(page, tpp, bank_id="sandbox")
    expect(page.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    allow(page)
    expect(page.get_by_role("heading", name="Log in to Sandbox Bank")).to_be_visible()
    log_in(page, "carol")
    page.get_by_label("One-time code").fill("123456")
    page.screenshot(path=artifacts / "one-time-code.png")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("checkbox", name="Current Account", exact=True)).to_be_checked()
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    assert callback_params(page.url)["token-id"].startswith("tt_")


def test_external_bank_auth_resumes_in_a_second_browser(browser, browser_context_args, tpp, artifacts):
    webview = browser.new_context(**browser_context_args)
    captured = []
    webview.expose_function("captureEvent", lambda message: captured.append(message))
    webview.add_init_script("window.ReactNativeWebView = {postMessage: function (m) { window.captureEvent(m); }};")
    page = webview.new_page()
    stored = open_request(page, tpp)
    page.get_by_role("button", name="Nordlicht Direktbank", exact=True).click()
    allow(page)
    link = page.get_by_role("link", name="Continue in your bank's app")
    expect(link).to_be_visible()
    page.screenshot(path=artifacts / "external-bank.png")
    link.click()  # in an app: the host hears OPEN_EXTERNAL and opens the bank outside the WebView
    page.wait_for_timeout(200)
    opened = [m for m in map(__import__("json").loads, captured) if m["event"] == "OPEN_EXTERNAL"]
    assert len(opened) == 1 and "/sandbox-bank/nordlicht/" in opened[0]["data"]["url"]
    assert "/bank-auth" in page.url  # the WebView stayed where it was
    # The bank's app finishes in another browser: the flow goes on there from server state.
    elsewhere = browser.new_context(**browser_context_args)
    elsewhere.route("https://tpp.example/**", lambda r: r.fulfill(status=200, body="TPP", content_type="text/html"))
    other = elsewhere.new_page()
    other.goto(opened[0]["data"]["url"])
    at_bank(other)
    other.wait_for_url("https://tpp.example/callback?**")
    result = tpp.http.get(f"/token-requests/{stored['id']}/result").json()
    assert result["status"] == "PROCESSED" and result["token_id"] == callback_params(other.url)["token-id"]
    webview.close()
    elsewhere.close()


def test_an_expired_request_shows_the_expiry_screen_with_a_way_back(page, tpp, tpp_site, clock, artifacts):
    stored = tpp.store_request()
    clock.advance(minutes=21)
    response = page.goto(f"{tpp.server.url}/app/request-token/{stored['id']}")
    assert response.status == 410
    expect(page.get_by_role("heading", name="This request has expired")).to_be_visible()
    page.screenshot(path=artifacts / "expired.png")
    page.get_by_role("link", name="Back to Test tpp app").click()
    page.wait_for_url("https://tpp.example/callback?**")
    assert callback_params(page.url)["error"] == "request_expired"


def test_the_whole_flow_works_without_javascript(browser, browser_context_args, tpp, artifacts):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    context.route("https://tpp.example/**", lambda r: r.fulfill(status=200, body="TPP", content_type="text/html"))
    page = context.new_page()
    open_request(page, tpp)
    page.get_by_label("Search banks").fill("crédit lumière")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("button", name="Sandbox Bank", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Crédit Lumière", exact=True)).to_be_visible()
    page.get_by_role("button", name="Crédit Lumière", exact=True).click()
    allow(page)
    at_bank(page)
    page.wait_for_url("https://tpp.example/callback?**")
    assert callback_params(page.url)["token-id"].startswith("tt_")
    context.close()


def test_native_events_reach_the_host(browser, browser_context_args, tpp):
    import json

    context = browser.new_context(**browser_context_args)
    context.route("https://tpp.example/**", lambda r: r.fulfill(status=200, body="TPP", content_type="text/html"))
    events = []
    context.expose_function("captureEvent", lambda message: events.append(json.loads(message)))
    context.add_init_script("window.WebViewBridgeAndroid = {postMessage: function (m) { window.captureEvent(m); }};")
    page = context.new_page()
    stored = open_request(page, tpp)
    page.get_by_role("button", name="Sandbox Bank", exact=True).click()
    allow(page)
    at_bank(page)
    page.wait_for_url("https://tpp.example/callback?**")
    names = [e["event"] for e in events]
    assert names[:2] == ["OPEN", "SELECT_BANK"] and "CONSENT_GRANTED" in names
    assert all(e["type"] == "webview-bridge" and e["request_id"] == stored["id"] for e in events)
    assert next(e for e in events if e["event"] == "SELECT_BANK")["data"] == {"bank_id": "sandbox"}
    context.close()


def test_search_filters_without_a_round_trip(page, tpp):
    open_request(page, tpp)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.get_by_label("Search banks").fill("LAKOWY")
    expect(page.get_by_role("button", name="Bank Łąkowy", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sandbox Bank", exact=True)).to_be_hidden()
    page.get_by_label("Search banks").fill("no such bank at all")
    expect(page.get_by_text("No bank matches your search.")).to_be_visible()
    page.get_by_label("Search banks").fill("")
    if not page.get_by_label("Country").is_visible():
        page.locator(".country summary").click()  # the country chip opens the choice
    page.get_by_label("Country").select_option("PL")
    expect(page.locator("#country-chip")).to_have_text("Poland")
    expect(page.get_by_role("button", name="Sandbox Bank", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Bank Wiślany", exact=True)).to_be_visible()
    assert requests == []


def test_a_private_use_scheme_gets_the_302(page, server, register_app):
    from tests.conftest import Tpp

    tpp = Tpp(server, register_app("tpp", redirect_urls=("myapp://callback",)))
    stored = tpp.store_request(redirect_url="myapp://callback", bank_id="sandbox")
    page.goto(f"{server.url}/app/request-token/{stored['id']}")
    allow(page)
    log_in(page)
    with page.expect_request(lambda r: r.url.startswith("myapp://")) as seen:
        page.get_by_role("button", name="Confirm", exact=True).click()
    assert callback_params(seen.value.url)["request-id"] == stored["id"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_built_for_a_phone(page, tpp, artifacts, scheme):
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": 360, "height": 740})
    open_request(page, tpp)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=artifacts / f"selection-360-{scheme}.png")
    small = page.evaluate("""() => [...document.querySelectorAll('button:not([hidden]), a, input, select')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.textContent.trim() || e.name || e.id, e.getBoundingClientRect().height])
        .filter(([, h]) => h < 44)""")
    assert small == []
    page.get_by_role("button", name="Sandbox Bank", exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=artifacts / f"consent-360-{scheme}.png", full_page=True)
    for name in ("Allow", "Deny"):
        assert page.get_by_role("button", name=name, exact=True).bounding_box()["height"] >= 44
    allow(page)
    log_in(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=artifacts / f"bank-consent-360-{scheme}.png", full_page=True)
    fonts = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert fonts.startswith("system-ui")
    external = page.evaluate("[...document.querySelectorAll('[src],[href]')].map(e => e.src || e.href).filter(u => !u.startsWith(location.origin) && !u.startsWith('data:'))")
    assert external == []
