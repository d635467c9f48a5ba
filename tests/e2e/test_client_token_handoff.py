"""The bank's app opens the WebView with its customer's client token (PROTOCOL §3, §6)."""

import pytest
from playwright.sync_api import expect

from tests.conftest import Tpp
from tests.e2e.conftest import callback_params
from webview_bridge import phone_hash

pytestmark = pytest.mark.databases("sqlite")


@pytest.fixture
def bank(server, register_app):
    client = Tpp(server, register_app("bank", name="Sandbox Bank app", bank_id="sandbox", independent_activation=True))
    client.http.put("/customers", json={"customers": [{"client_id": "alice", "phones": []}]})
    yield client
    client.http.close()


def client_token(bank, **spec):
    answer = bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 10, "client_id": "alice", **spec}])
    assert answer.status_code == 200, answer.text
    return answer.json()[0]["client_token"]


def open_with(page, url, token):
    """Only the first load carries the client token, as the protocol says."""
    sent = []

    def first_only(route):
        if not sent:
            sent.append(route.request.url)
            route.continue_(headers={**route.request.headers, "authorization": f"Bearer {token}"})
        else:
            route.continue_()

    page.route("**/app/request-token/**", first_only)
    page.goto(url)
    return sent


def test_a_strong_auth_token_takes_the_trusted_path_no_bank_pages(page, tpp, bank, tpp_site, artifacts):
    token = client_token(bank, strong_auth=True)
    stored = tpp.store_request(bank_id="sandbox")
    open_with(page, f"{tpp.server.url}/app/request-token/{stored['id']}", token)
    expect(page.get_by_role("checkbox", name="Everyday Account", exact=True)).to_be_checked()
    expect(page.get_by_label("Password")).to_have_count(0)
    assert token not in page.content() and token not in page.url
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["wvb_session"]["httpOnly"] and cookies["wvb_session"]["value"] != token
    page.get_by_role("checkbox", name="Euro Savings", exact=True).uncheck()
    page.screenshot(path=artifacts / "consent-on-the-trusted-path.png", full_page=True)
    page.get_by_role("button", name="Allow", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    token_id = callback_params(page.url)["token-id"]
    names = [a["name"] for a in tpp.http.get("/accounts", headers=tpp.on_behalf_of(token_id)).json()["accounts"]]
    assert names == ["Everyday Account", "Rewards Card"]


def test_a_strong_auth_token_skips_the_banks_pages_once(page, tpp, bank, tpp_site):
    token = client_token(bank, strong_auth=True)
    first = tpp.store_request(bank_id="sandbox")
    open_with(page, f"{tpp.server.url}/app/request-token/{first['id']}", token)
    page.get_by_role("button", name="Allow", exact=True).click()
    page.wait_for_url("https://tpp.example/callback?**")
    second = tpp.store_request(bank_id="sandbox", ref_id="second")
    page.goto(f"{tpp.server.url}/app/request-token/{second['id']}")
    expect(page.get_by_role("checkbox")).to_have_count(0)
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_label("Password")).to_be_visible()


def test_an_ordinary_token_still_meets_the_bank_login_but_puts_the_bank_first(page, tpp, bank):
    token = client_token(bank, ttl_minutes=60)
    stored = tpp.store_request()
    open_with(page, f"{tpp.server.url}/app/request-token/{stored['id']}", token)
    first_bank = page.locator(".banks button").first
    expect(first_bank).to_have_accessible_name("Sandbox Bank")
    first_bank.click()
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_label("Password")).to_be_visible()


def test_a_strong_auth_token_does_not_skip_another_banks_login(page, tpp, bank):
    token = client_token(bank, strong_auth=True)
    stored = tpp.store_request(bank_id="emeraude")
    open_with(page, f"{tpp.server.url}/app/request-token/{stored['id']}", token)
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_role("heading", name="Log in to Banque Émeraude")).to_be_visible()


def _activation_token(bank):
    unknown = phone_hash("+447700900777")
    answer = bank.http.post("/client-tokens/phone-hash", json=[{"ttl_minutes": 30, "phones": [{"hash": unknown, "primary": True}]}])
    assert answer.json()[0]["activation"] == "required"
    return answer.json()[0]["client_token"]


def test_activation_comes_first_and_accepting_creates_the_customer(page, tpp, bank, artifacts):
    token = _activation_token(bank)
    stored = tpp.store_request()
    open_with(page, f"{tpp.server.url}/app/request-token/{stored['id']}", token)
    expect(page.get_by_role("heading", name="Turn on account sharing with Sandbox Bank")).to_be_visible()
    page.screenshot(path=artifacts / "activation.png")
    page.get_by_role("button", name="Accept and continue").click()
    expect(page.get_by_role("heading", name="Choose your bank")).to_be_visible()
    from sqlalchemy import select

    from webview_bridge.store.schema import customers

    with tpp.server.runtime.db.read() as conn:
        assert conn.execute(select(customers.c.activation).where(customers.c.client_id.is_(None))).scalar() == "independent"


def test_declining_activation_returns_access_denied(page, tpp, bank, tpp_site):
    token = _activation_token(bank)
    stored = tpp.store_request()
    open_with(page, f"{tpp.server.url}/app/request-token/{stored['id']}", token)
    page.get_by_role("button", name="Decline").click()
    page.wait_for_url("https://tpp.example/callback?**")
    assert callback_params(page.url)["error"] == "access_denied"
    assert tpp.http.get(f"/token-requests/{stored['id']}/result").json()["error"] == "access_denied"
