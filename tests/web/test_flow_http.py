"""The consent flow's rules over plain HTTP: the signed 302, single approval, CSRF, headers."""

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.support.customer import Customer, query
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


def test_allow_answers_302_with_request_id_token_id_and_a_verifiable_state(tpp, customer):
    stored = tpp.store_request(callback_state="cart-7", csrf_token="c" * 24)
    answer = customer.run(f"{tpp.server.url}/app/request-token/{stored['id']}")
    assert answer.status_code == 302
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


def test_deny_answers_302_with_access_denied(tpp, customer):
    stored = tpp.store_request()
    answer = customer.run(f"{tpp.server.url}/app/request-token/{stored['id']}", decision="deny")
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


def test_bank_id_skips_selection_and_carol_needs_her_code(tpp, customer):
    stored = tpp.store_request(bank_id="sandbox")
    entry = customer.get(f"/app/request-token/{stored['id']}")
    assert entry.status_code == 302 and "/sandbox-bank/sandbox/authorize?" in entry.headers["location"]
    wrong = customer.bank_login(entry, "carol", one_time_code="000000")
    assert wrong.status_code == 401 and "not right" in wrong.text
    entry = customer.get(f"/app/request-token/{stored['id']}")
    back = customer.back_from_bank(customer.bank_login(entry, "carol", one_time_code="123456"))
    page = customer.get(back.headers["location"])
    assert page.status_code == 200 and "Carol Castellano" in page.text


def test_one_approval_from_32_concurrent_allow_posts(tpp, customer):
    stored = tpp.store_request()
    request_id = stored["id"]
    entry = customer.get(f"/app/request-token/{request_id}")
    back = customer.back_from_bank(customer.bank_login(customer.choose_bank(request_id, "sandbox", entry), "alice"))
    page = customer.get(back.headers["location"])
    data = {"csrf": customer.csrf(page), "decision": "allow", "account_id": customer.accounts(page)}
    cookies = dict(customer.http.cookies)

    def allow(_):
        with httpx2.Client(base_url=tpp.server.url, cookies=cookies, follow_redirects=False) as c:
            return c.post(f"/app/request-token/{request_id}/consent", data=data)

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(allow, range(32)))
    winners = [a for a in answers if a.status_code == 302]
    assert len(winners) == 1
    assert all(a.status_code == 409 and "already finished" in a.text for a in answers if a.status_code != 302)
    assert tpp.http.get("/tokens").json()["paging"]["total_count"] == 1


def test_forged_and_cross_session_posts_change_nothing(tpp, customer, server):
    stored = tpp.store_request()
    request_id = stored["id"]
    entry = customer.get(f"/app/request-token/{request_id}")
    forged = customer.http.post(f"/app/request-token/{request_id}/bank", data={"csrf": "forged", "bank_id": "sandbox"})
    assert forged.status_code == 403
    stranger = Customer(server.url)
    stranger.get(f"/app/request-token/{request_id}")
    stolen = stranger.http.post(f"/app/request-token/{request_id}/exit", data={"csrf": customer.csrf(entry), "error": "access_denied"})
    assert stolen.status_code == 403
    no_cookie = httpx2.post(f"{server.url}/app/request-token/{request_id}/exit", data={"csrf": customer.csrf(entry)})
    assert no_cookie.status_code == 403
    other = tpp.store_request(ref_id="other")
    wrong_request = customer.http.post(f"/app/request-token/{other['id']}/exit", data={"csrf": customer.csrf(entry)})
    assert wrong_request.status_code == 403
    assert tpp.http.get(f"/token-requests/{request_id}/result").json()["status"] == "PENDING"


def test_consent_needs_the_bank_login_in_this_browser(tpp, customer, server):
    stored = tpp.store_request()
    request_id = stored["id"]
    entry = customer.get(f"/app/request-token/{request_id}")
    back = customer.back_from_bank(customer.bank_login(customer.choose_bank(request_id, "sandbox", entry), "alice"))
    assert customer.get(back.headers["location"]).status_code == 200
    onlooker = Customer(server.url)
    peek = onlooker.get(f"/app/request-token/{request_id}/consent")
    assert peek.status_code == 403 and "Everyday Account" not in peek.text


def test_a_bank_return_works_once(tpp, customer):
    stored = tpp.store_request()
    request_id = stored["id"]
    entry = customer.get(f"/app/request-token/{request_id}")
    bank_answer = customer.bank_login(customer.choose_bank(request_id, "sandbox", entry), "alice")
    assert customer.back_from_bank(bank_answer).status_code == 302
    replay = customer.back_from_bank(bank_answer)
    assert replay.status_code == 409 and "already used" in replay.text
    forged = customer.get("/app/bank-callback?state=forged&code=x")
    assert forged.status_code == 404


def test_an_unavailable_bank_offers_another_bank_or_the_way_back(tpp, customer):
    stored = tpp.store_request()
    request_id = stored["id"]
    entry = customer.get(f"/app/request-token/{request_id}")
    failing = customer.back_from_bank(customer.bank_login(customer.choose_bank(request_id, "citta-eterna", entry), "alice"))
    assert failing.status_code == 503 and "not available" in failing.text and "Choose another bank" in failing.text
    leave = customer.http.post(f"/app/request-token/{request_id}/exit", data={"csrf": customer.csrf(failing), "error": "bank_unavailable"})
    assert query(leave.headers["location"])["error"] == "bank_unavailable"
    assert tpp.http.get(f"/token-requests/{request_id}/result").json() == {
        "request_id": request_id, "status": "REJECTED", "error": "bank_unavailable"}


def test_maintenance_banks_cannot_be_chosen(tpp, customer):
    stored = tpp.store_request()
    entry = customer.get(f"/app/request-token/{stored['id']}")
    assert re.search(r'value="hansekontor" disabled', entry.text)
    chosen = customer.choose_bank(stored["id"], "hansekontor", entry)
    assert chosen.status_code == 400


def test_end_screens(tpp, customer, clock):
    assert customer.get("/app/request-token/rq_nope").status_code == 404
    assert customer.get("/app/request-token/<script>").status_code == 404
    stored = tpp.store_request()
    clock.advance(minutes=20)
    expired = customer.get(f"/app/request-token/{stored['id']}")
    assert expired.status_code == 410 and "expired" in expired.text
    back = re.search(r'href="(https://tpp.example/callback\?[^"]+)"', expired.text).group(1)
    assert query(back.replace("&amp;", "&"))["error"] == "request_expired"
    done = tpp.store_request(ref_id="done")
    customer.run(f"{tpp.server.url}/app/request-token/{done['id']}")
    again = customer.get(f"/app/request-token/{done['id']}")
    assert again.status_code == 409 and "already finished" in again.text and "token-id=tt_" in again.text


def test_tpp_text_is_escaped_everywhere(server, register_app):
    from tests.conftest import Tpp

    tpp = Tpp(server, register_app("tpp", name="<b>Evil</b> & Co"))
    stored = tpp.store_request(description="<script>alert(1)</script>", bank_id="sandbox",
                               acting_as={"display_name": "<img src=x onerror=alert(1)>", "secondary_name": "\"quoted\""})
    person = Customer(server.url)
    entry = person.get(f"/app/request-token/{stored['id']}")
    page = person.get(person.back_from_bank(person.bank_login(entry, "alice")).headers["location"])
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page.text


def test_security_headers_and_session_cookie(tpp, customer):
    stored = tpp.store_request()
    page = customer.get(f"/app/request-token/{stored['id']}")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data:" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp.replace("'self'", "")  # names no other origin
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # loopback
    assert '<meta name="viewport"' in page.text
    api = tpp.http.get("/banks")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_embed_origin_replaces_frame_ancestors_none(server, register_app):
    from tests.conftest import Tpp

    tpp = Tpp(server, register_app("tpp", embed_origin="https://host.example"))
    page = Customer(server.url).get(f"/app/request-token/{tpp.store_request()['id']}")
    assert "frame-ancestors https://host.example" in page.headers["content-security-policy"]
    assert 'data-embed-origin="https://host.example"' in page.text


def test_the_sandbox_bank_returns_only_to_its_registered_callback(server):
    refused = httpx2.get(f"{server.url}/sandbox-bank/sandbox/authorize", params={"state": "x", "return_url": "https://evil.example/"})
    assert refused.status_code == 400


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
    entry = person.get(f"/app/request-token/{stored['id']}?lang=pl")
    page = person.get(person.back_from_bank(person.bank_login(entry, "alice")).headers["location"])
    assert "19 lutego 2027" in page.text and "Zezwól" in page.text and "Konto osobiste" in page.text


def test_operator_templates_override_the_built_in_ones_by_name(tmp_path, database_url, clock):
    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    (tmp_path / "home.html").write_text('{% extends "base.html" %}{% block content %}<h1>Our bank</h1>{% endblock %}')
    with serving(create_app(Settings(database_url=database_url, templates_dir=tmp_path), clock)) as client:
        assert "<h1>Our bank</h1>" in client.get("/").text


def test_a_session_cookie_claiming_a_hand_off_gets_no_customer_from_it(tpp, customer):
    """Hand-off sessions are marked in their value; a forged mark finds no client token, so the
    bank login is still asked for and the flow otherwise goes on as any other."""
    stored = tpp.store_request()
    customer.http.cookies.set("wvb_session", "c." + "A" * 43, domain="127.0.0.1")
    entry = customer.get(f"/app/request-token/{stored['id']}")
    assert entry.status_code == 200 and "bank_id" in entry.text  # the selection, not a skip or activation
    to_bank = customer.choose_bank(stored["id"], "sandbox", entry)
    assert to_bank.status_code == 302 and "/sandbox-bank/" in to_bank.headers["location"]
