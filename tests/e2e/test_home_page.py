import pytest


@pytest.mark.browser
@pytest.mark.databases("sqlite")
def test_chromium_on_a_phone_opens_the_live_server(server, page, artifacts):
    page.goto(server.url + "/")
    assert page.get_by_role("heading", name="webview-bridge").is_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    # laid out for the phone, not at the 980 px desktop fallback
    assert page.evaluate("window.innerWidth") < 500
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=artifacts / "home.png")
