"""`serve --demo`: the first thing a new user tries, in Chromium on a phone."""

import pytest
from playwright.sync_api import expect

from tests.support.live import start_live_server
from webview_bridge.app import create_app
from webview_bridge.settings import Settings

pytestmark = pytest.mark.databases("sqlite")


@pytest.fixture
def demo_server(database_url, server_port, clock):
    app = create_app(Settings(database_url=database_url, port=server_port, public_url=f"http://127.0.0.1:{server_port}",
                              demo=True, worker=False), clock)
    live = start_live_server(app, server_port)
    yield live
    live.stop()


def test_the_demo_links_a_bank_in_one_tap_and_lists_the_accounts(page, demo_server, artifacts):
    page.goto(demo_server.url + "/")
    page.get_by_role("link", name="Try the demo").click()
    page.screenshot(path=artifacts / "demo-home.png")
    page.get_by_role("link", name="Link a bank account").click()
    page.get_by_role("button", name="Sandbox Bank", exact=True).click()
    page.get_by_role("button", name="Allow", exact=True).click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Your bank is linked.")).to_be_visible()
    expect(page.get_by_role("heading", name="Everyday Account")).to_be_visible()
    expect(page.get_by_role("heading", name="Euro Savings")).to_be_visible()
    assert page.locator(".transactions li").count() >= 10
    assert page.locator(".balance").first.inner_text().startswith("Balance £")  # money formatted for the language
    page.screenshot(path=artifacts / "demo-linked.png", full_page=True)
    demo_server.run(demo_server.app.state.worker.run_due())  # the server's worker delivers the webhook
    page.reload()
    expect(page.get_by_text("token_request.processed")).to_be_visible()
    page.get_by_role("link", name="Renew access").click()
    expect(page.get_by_text("This renews access you gave before")).to_be_visible()
    page.get_by_role("button", name="Allow", exact=True).click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Your bank is linked.")).to_be_visible()
    assert page.get_by_role("link", name="Renew access").count() == 1  # the renewed link replaced the old one
    demo_server.run(demo_server.app.state.worker.run_due())
    page.reload()
    expect(page.get_by_text("token.cancelled")).to_be_visible()
    page.screenshot(path=artifacts / "demo-renewed.png", full_page=True)


def test_a_restart_keeps_one_demo_app(database_url, server_port, clock):
    from webview_bridge.store import apps

    for _ in range(2):
        app = create_app(Settings(database_url=database_url, port=server_port, demo=True), clock)
        names = [a.name for a in apps.list_all(app.state.runtime.db)]
        app.state.runtime.close()
    assert names.count("webview-bridge demo TPP") == 1
