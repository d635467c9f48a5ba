"""The consent flow's rules over plain HTTP (PROTOCOL §6): consent before the bank, the bank's
own choice of accounts, the signed 302, single approval, sessions, CSRF, headers."""

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.support.customer import Customer, forms, query
from tests.support.live import serving


def verify_state_as_a_tpp_would(state, callback_secret, max_age=600):
    serializer = URLSafeTimedSerializer(callback_secret, salt="webview-bridge/callback",
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})
    return serializer.loads(state, max_age=max_age)


@pytest.fixture
def customer(server):
    person = Customer(server.url)
    yield person
    person.close()


def entry_url(tpp, stored) -> str:
    return f"{tpp.server.url}/app/request-token/{stored['id']}"


def test_allow_then_confirm_at_the_bank_answers_302_with_request_id_token_id_and_a_verifiable_state(tpp, customer):
    stored = tpp.store_request(callback_state="cart-7", csrf_token="c" * 24)
    answer = customer.run(entry_url(tpp, stored))
    location = answer.headers["location"]
    assert location.startswith("https://tpp.example/callback?request-id=")
    params = query(location)
    assert params["request-id"] == stored["id"] and params["token-id"].startswith("tt_") and "error" not in params
    payload = verify_state_as_a_tpp_would(params["state"], tpp.creds.callback_secret)
    assert payload == {"app_id": tpp.app_id, "request_id": stored["id"], "token_id": params["token-id"],
                       "callback_state": "cart-7", "csrf_token_hash": hashlib.sha256(b"c" * 24).hexdigest(), "error": None}
    result = tpp.http.get(f"/token-requests/{stored['id']}/result").json()
    assert result == {"request_id": stored["id"], "status": "PROCESSED", "token_id": params["token-id"]}
    token = tpp.http.get(f"/tokens/{params['token-id']}").json()["token"]
    assert len(token["account_ids"]) == 3 and token["customer_id"].startswith("cus_")


def test_the_consent_screen_comes_before_the_bank_and_says_what_the_customer_agrees_to(tpp, customer):
    stored = tpp.store_request(description="Budgeting", token_expiration_days=30,
                               acting_as={"display_name": "Pennywise", "secondary_name": "Budget app"})
    consent = customer.to_consent(entry_url(tpp, stored))
    text = consent.text
    assert consent.status_code == 200 and "Sandbox Bank" in text and "Pennywise" in text and "Test tpp app" in text
    assert "See your balances" in text and "Budgeting" in text and "December 21, 2026" in text  # until, as a date
    assert "choose the accounts to share" in text and "stop sharing" in text
    buttons = [b[0] for f in forms(consent) for b in f.buttons]
    assert buttons == ["Allow", "Deny"]
    assert customer.accounts(consent) == []  # accounts are chosen at the bank


def test_the_banks_choice_of_accounts_is_the_tokens(tpp, customer):
    stored = tpp.store_request()
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    login = customer.bank_login(to_bank, "alice")
    boxes = [v for f in forms(login) for k, v in f.fields if k == f.input_named(type="checkbox")]
    assert len(boxes) == 3  # every account, all ticked at first
    back = customer.back_from_bank(customer.submit(login, "Confirm", untick={boxes[0], boxes[2]}))
    token = tpp.http.get(f"/tokens/{query(back.headers['location'])['token-id']}").json()["token"]
    assert len(token["account_ids"]) == 1
    names = [a["name"] for a in tpp.http.get("/accounts", headers=tpp.on_behalf_of(token["id"])).json()["accounts"]]
    assert names == ["Euro Savings"]


@pytest.mark.parametrize("where", ["our consent screen", "the bank"])
def test_deny_here_or_cancel_at_the_bank_answers_302_with_access_denied(tpp, customer, where):
    stored = tpp.store_request()
    if where == "our consent screen":
        answer = customer.run(entry_url(tpp, stored), decision="deny")
    else:
        answer = customer.run(entry_url(tpp, stored), bank_decision="Cancel")
    params = query(answer.headers["location"])
    assert params["error"] == "access_denied" and "token-id" not in params
    assert verify_state_as_a_tpp_would(params["state"], tpp.creds.callback_secret)["error"] == "access_denied"
    assert tpp.http.get(f"/token-requests/{stored['id']}/result").json()["status"] == "REJECTED"


@pytest.mark.parametrize(
    ("registered", "expected_prefix"),
    [
        ("https://tpp.example/cb?client=7", "https://tpp.example/cb?client=7&request-id="),
        ("myapp://callback", "myapp://callback?request-id="),
        ("com.example.app:/cb", "com.example.app:/cb?request-id="),
        ("https://tpp.example/cb?", "https://tpp.example/cb?request-id="),
    ],
)
def test_reserved_parameters_are_appended_to_any_registered_url(server, register_app, registered, expected_prefix):
    from tests.conftest import Tpp

    tpp = Tpp(server, register_app("tpp", redirect_urls=(registered,)))
    stored = tpp.store_request(redirect_url=registered)
    person = Customer(server.url)
    location = person.run(f"{server.url}/app/request-token/{stored['id']}").headers["location"]
    assert location.startswith(expected_prefix)
    assert re.search(r"request-id=rq_[^&]+&token-id=tt_[^&]+&state=[^&]+$", location)


def test_a_request_naming_a_bank_skips_selection_and_refuses_any_other_bank(tpp, customer):
    stored = tpp.store_request(bank_id="sandbox")
    entry = customer.get(entry_url(tpp, stored))
    assert entry.status_code == 302 and entry.headers["location"].endswith(f"/app/request-token/{stored['id']}/consent")
    consent = customer.follow(entry)
    other = customer.choose_bank(stored["id"], "thistle-crown", consent)
    assert other.status_code == 400
    assert "Sandbox Bank" in customer.consent_page(stored["id"]).text  # nothing changed


def test_carol_needs_her_one_time_code(tpp, customer):
    stored = tpp.store_request(bank_id="sandbox")
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    wrong = customer.bank_login(to_bank, "carol", one_time_code="000000")
    assert wrong.status_code in (400, 401) and "not right" in wrong.text
    right = customer.submit(wrong, "Log in", fill={forms(wrong)[0].input_named(autocomplete="one-time-code"): "123456"})
    while right.status_code == 303:
        right = customer.follow(right)
    assert "Confirm" in right.text and "Current Account" in right.text
    back = customer.back_from_bank(customer.submit(right, "Confirm"))
    assert "token-id=tt_" in back.headers["location"]


def test_a_bank_return_is_accepted_once_even_by_32_at_once(tpp, customer, server):
    stored = tpp.store_request()
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    bank_answer = customer.at_bank(to_bank)
    callback = bank_answer.headers["location"]

    def come_back(_):
        with httpx2.Client(follow_redirects=False, timeout=30) as browser:
            return browser.get(callback)

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(come_back, range(32)))
    winners = [a for a in answers if a.status_code == 302 and "token-id=tt_" in a.headers["location"]]
    assert len(winners) == 1
    assert all(a.status_code in (409,) for a in answers if a not in winners)
    assert tpp.http.get("/tokens").json()["paging"]["total_count"] == 1
    forged = customer.get("/app/bank-callback?state=forged")
    assert forged.status_code == 404


def test_forged_and_cross_session_posts_change_nothing(tpp, customer, server):
    stored = tpp.store_request()
    request_id = stored["id"]
    entry = customer.get(entry_url(tpp, stored))
    forged = customer.http.post(f"/app/request-token/{request_id}/bank", data={"csrf": "forged", "bank_id": "sandbox"})
    assert forged.status_code == 403
    stranger = Customer(server.url)
    stranger.get(entry_url(tpp, stored))
    stolen = stranger.http.post(f"/app/request-token/{request_id}/exit", data={"csrf": customer.csrf(entry), "error": "access_denied"})
    assert stolen.status_code == 403
    no_cookie = httpx2.post(f"{server.url}/app/request-token/{request_id}/exit", data={"csrf": customer.csrf(entry)})
    assert no_cookie.status_code == 403
    other = tpp.store_request(ref_id="other")
    wrong_request = customer.http.post(f"/app/request-token/{other['id']}/exit", data={"csrf": customer.csrf(entry)})
    assert wrong_request.status_code == 403
    assert tpp.http.get(f"/token-requests/{request_id}/result").json()["status"] == "PENDING"


def test_only_the_session_that_chose_the_bank_sees_the_consent_and_the_live_bank_state(tpp, customer, server, register_app):

    stored = tpp.store_request(bank_id="nordlicht")
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    assert to_bank.headers["location"].endswith("/bank-auth")
    mine = customer.follow(to_bank)
    assert mine.status_code == 200 and "/sandbox-bank/nordlicht/" in mine.text
    onlooker = Customer(server.url)
    for path in ("/consent", "/bank-auth"):
        peek = onlooker.get(f"/app/request-token/{stored['id']}{path}")
        assert peek.status_code == 403 and "/sandbox-bank/" not in peek.text


def test_a_session_the_server_did_not_issue_is_replaced_not_adopted(tpp, customer, server):
    stored = tpp.store_request()
    planted = "A" * 43
    customer.http.cookies.set("wvb_session", planted, domain="127.0.0.1")
    entry = customer.get(entry_url(tpp, stored))
    issued = entry.cookies.get("wvb_session")
    assert issued and issued != planted
    forged_post = httpx2.post(f"{server.url}/app/request-token/{stored['id']}/bank", cookies={"wvb_session": planted},
                              data={"csrf": "x", "bank_id": "sandbox"})
    assert forged_post.status_code == 403


def test_the_session_is_renewed_when_the_banks_return_is_accepted(tpp, customer, server):
    stored = tpp.store_request()
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    before = customer.http.cookies.get("wvb_session")
    back = customer.back_from_bank(customer.at_bank(to_bank))
    after = back.cookies.get("wvb_session")
    assert after and after != before
    finished = customer.get(entry_url(tpp, stored))
    assert finished.status_code == 409 and "token-id=tt_" in finished.text  # the new session sees the way back
    old = Customer(server.url)
    old.http.cookies.set("wvb_session", before, domain="127.0.0.1")
    stale = old.get(entry_url(tpp, stored))
    assert stale.status_code == 409 and "token-id=" not in stale.text  # the old one is dead


def test_a_finished_requests_way_back_goes_only_to_the_session_that_finished_it_until_expiry(tpp, customer, server, clock):
    stored = tpp.store_request()
    customer.run(entry_url(tpp, stored))
    mine = customer.get(entry_url(tpp, stored))
    assert mine.status_code == 409 and "You shared 3 accounts until February 19, 2027." in mine.text
    assert "token-id=tt_" in mine.text
    other = Customer(server.url).get(entry_url(tpp, stored))
    assert other.status_code == 409 and "already finished" in other.text and "tpp.example" not in other.text
    clock.advance(minutes=20)
    later = customer.get(entry_url(tpp, stored))
    assert later.status_code == 409 and "tpp.example" not in later.text


def test_the_external_auth_bank_finishes_in_another_browser(tpp, customer, server):
    stored = tpp.store_request(bank_id="nordlicht")
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    page = customer.follow(to_bank)
    assert 'data-wvb-event="OPEN_EXTERNAL"' in page.text and "Continue in your bank" in page.text
    bank_url = re.search(r'href="(http[^"]+/sandbox-bank/nordlicht/[^"]+)"', page.text).group(1).replace("&amp;", "&")
    system_browser = Customer(server.url)
    login = system_browser.http.get(bank_url)
    fake_redirect = httpx2.Response(302, headers={"location": bank_url}, request=login.request)
    back = system_browser.back_from_bank(system_browser.at_bank(fake_redirect))
    assert back.status_code == 302 and "token-id=tt_" in back.headers["location"]
    assert tpp.http.get(f"/token-requests/{stored['id']}/result").json()["status"] == "PROCESSED"
    webview = customer.get(entry_url(tpp, stored))
    assert webview.status_code == 409 and "token-id" not in webview.text  # finished elsewhere


def test_an_unavailable_bank_offers_another_bank_or_the_way_back(tpp, customer):
    stored = tpp.store_request()
    consent = customer.to_consent(entry_url(tpp, stored), "citta-eterna")
    failing = customer.decide(consent, "allow")
    assert failing.status_code == 503 and "not available" in failing.text and "Choose another bank" in failing.text
    again = customer.to_consent(entry_url(tpp, stored), "sandbox")
    assert again.status_code == 200 and "Sandbox Bank" in again.text
    leave = customer.http.post(f"/app/request-token/{stored['id']}/exit", data={"csrf": customer.csrf(failing), "error": "bank_unavailable"})
    assert query(leave.headers["location"])["error"] == "bank_unavailable"
    assert tpp.http.get(f"/token-requests/{stored['id']}/result").json() == {
        "request_id": stored["id"], "status": "REJECTED", "error": "bank_unavailable"}


def test_a_bank_that_fails_at_its_return_shows_the_bank_unavailable_page_not_a_500(tpp, customer, app):
    stored = tpp.store_request()
    to_bank = customer.decide(customer.to_consent(entry_url(tpp, stored)), "allow")
    bank_answer = customer.at_bank(to_bank)
    banks = app.state.runtime.banks
    banks._connector(banks.get("sandbox")).base_url = "http://127.0.0.1:9"
    back = customer.back_from_bank(bank_answer)
    assert back.status_code == 503 and "Choose another bank" in back.text


def test_maintenance_banks_cannot_be_chosen(tpp, customer):
    stored = tpp.store_request()
    entry = customer.get(entry_url(tpp, stored))
    assert re.search(r'value="hansekontor" disabled', entry.text)
    chosen = customer.choose_bank(stored["id"], "hansekontor", entry)
    assert chosen.status_code == 400


def test_end_screens(tpp, customer, clock):
    assert customer.get("/app/request-token/rq_nope").status_code == 404
    assert customer.get("/app/request-token/<script>").status_code == 404
    stored = tpp.store_request()
    clock.advance(minutes=20)
    expired = customer.get(entry_url(tpp, stored))
    assert expired.status_code == 410 and "expired" in expired.text
    back = re.search(r'href="(https://tpp.example/callback\?[^"]+)"', expired.text).group(1)
    assert query(back.replace("&amp;", "&"))["error"] == "request_expired"


def test_tpp_text_is_escaped_everywhere(server, register_app):
    from tests.conftest import Tpp

    tpp = Tpp(server, register_app("tpp", name="<b>Evil</b> & Co"))
    stored = tpp.store_request(description="<script>alert(1)</script>", bank_id="sandbox",
                               acting_as={"display_name": "<img src=x onerror=alert(1)>", "secondary_name": "\"quoted\""})
    person = Customer(server.url)
    page = person.to_consent(f"{server.url}/app/request-token/{stored['id']}")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page.text


def test_security_headers_and_session_cookie(tpp, customer):
    stored = tpp.store_request()
    page = customer.get(entry_url(tpp, stored))
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data:" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp.replace("'self'", "")  # names no other origin
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("wvb_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # a plain-http public URL
    assert '<meta name="viewport"' in page.text
    api = tpp.http.get("/banks")
    assert api.headers["x-content-type-options"] == "nosniff"


@pytest.mark.databases("sqlite")
def test_an_https_public_url_makes_a_host_only_secure_cookie_whatever_the_host_header(database_url, clock, register_app):
    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    app = create_app(Settings(database_url=database_url, public_url="https://bank-link.example", worker=False), clock)
    runtime = app.state.runtime
    from webview_bridge.domain.apps import ROLE_CHOICES
    from webview_bridge.store import apps as app_store
    from webview_bridge.store import token_requests

    tpp = app_store.create(runtime.db, runtime.keyring, runtime.clock, name="t", roles=ROLE_CHOICES["tpp"],
                           redirect_urls=("https://tpp.example/cb",))
    stored = token_requests.create(runtime.db, runtime.clock, tpp.app_id, "h" * 64, {
        "resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/cb", "ref_id": "r", "description": "r",
        "token_expiration_days": 90})
    with serving(app) as client:
        page = client.get(f"/app/request-token/{stored.id}", headers={"Host": "127.0.0.1"})
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-wvb_session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_embed_origin_replaces_frame_ancestors_none(server, register_app):
    from tests.conftest import Tpp

    tpp = Tpp(server, register_app("tpp", embed_origin="https://host.example"))
    page = Customer(server.url).get(f"/app/request-token/{tpp.store_request()['id']}")
    assert "frame-ancestors https://host.example" in page.headers["content-security-policy"]
    assert 'data-embed-origin="https://host.example"' in page.text


@pytest.mark.databases("sqlite")
def test_well_known_association_files_come_from_settings(tmp_path, database_url, clock):
    from webview_bridge.app import create_app
    from webview_bridge.settings import SettingsError, settings_from_env

    links = tmp_path / "assetlinks.json"
    links.write_text('[{"relation": ["delegate_permission/common.handle_all_urls"]}]')
    env = {"WEBVIEW_BRIDGE_APPLE_APP_SITE_ASSOCIATION": '{"applinks": {"details": []}}',
           "WEBVIEW_BRIDGE_ASSETLINKS": str(links)}
    with serving(create_app(settings_from_env(env, database_url=database_url), clock)) as client:
        apple = client.get("/.well-known/apple-app-site-association")
        assert apple.status_code == 200 and apple.headers["content-type"] == "application/json"
        assert apple.json() == {"applinks": {"details": []}}
        assert client.get("/.well-known/assetlinks.json").json()[0]["relation"]
    with serving(create_app(settings_from_env({}, database_url=database_url), clock)) as client:
        assert client.get("/.well-known/assetlinks.json").status_code == 404
    with pytest.raises(SettingsError, match="not valid JSON"):
        settings_from_env({"WEBVIEW_BRIDGE_ASSETLINKS": "{broken"})


def test_pages_speak_the_customers_language(tpp, customer):
    stored = tpp.store_request(bank_id=None)
    german = customer.get(f"/app/request-token/{stored['id']}?lang=de")
    assert '<html lang="de"' in german.text and "Wählen Sie Ihre Bank" in german.text and "Banken suchen" in german.text
    assert "Deutschland" in german.text  # country names in the language too
    again = customer.get(f"/app/request-token/{stored['id']}")  # the choice stays for the flow
    assert '<html lang="de"' in again.text
    french = Customer(tpp.server.url)
    page = french.http.get(f"/app/request-token/{stored['id']}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr"' in page.text and "Choisissez votre banque" in page.text
    unknown = Customer(tpp.server.url).get(f"/app/request-token/{stored['id']}?lang=tlh")
    assert unknown.status_code == 200 and '<html lang="en"' in unknown.text


def test_dates_are_formatted_for_the_language(tpp):
    stored = tpp.store_request(bank_id="sandbox", token_expiration_days=90)
    person = Customer(tpp.server.url)
    page = person.to_consent(f"{tpp.server.url}/app/request-token/{stored['id']}?lang=pl")
    assert "19 lutego 2027" in page.text and "Zezwól" in page.text


def test_operator_templates_override_the_built_in_ones_by_name(tmp_path, database_url, clock):
    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    (tmp_path / "home.html").write_text('{% extends "base.html" %}{% block content %}<h1>Our bank</h1>{% endblock %}')
    with serving(create_app(Settings(database_url=database_url, templates_dir=tmp_path, worker=False), clock)) as client:
        assert "<h1>Our bank</h1>" in client.get("/").text
