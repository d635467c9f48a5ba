"""The mountable start / callback / status endpoints, served by a TPP app of its own."""

import hashlib
import time

import httpx2
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.support.customer import Customer, query
from tests.support.live import start_live_server
from tests.support.postgres import free_port
from webview_bridge.tpp import TppConfig, tpp_app


@pytest.fixture
def tpp_backend(server, register_app):
    """A TPP's own Starlette app with the helper mounted at /bank-link, on its own port."""
    port = free_port()
    redirect_url = f"http://127.0.0.1:{port}/bank-link/callback"
    creds = register_app("tpp", redirect_urls=(redirect_url,))
    heard = []

    async def on_linked(result, request):
        heard.append(result)

    config = TppConfig(server_url=server.url, app_id=creds.app_id, app_secret=creds.app_secret,
                       callback_secrets=[creds.callback_secret], redirect_url=redirect_url, on_linked=on_linked,
                       return_url="myapp://linked")
    live = start_live_server(Starlette(routes=[Mount("/bank-link", app=tpp_app(config))]), port)
    live.heard, live.config, live.creds = heard, config, creds
    yield live
    live.stop()


def _start(tpp_backend):
    browser = httpx2.Client(base_url=tpp_backend.url, follow_redirects=False)
    started = browser.get("/bank-link/start")
    return browser, started


def _flow_to_callback(server, tpp_backend, decision="allow"):
    browser, started = _start(tpp_backend)
    customer = Customer(server.url)
    back = customer.run(started.headers["location"], decision=decision)
    return browser, back.headers["location"]


def test_start_answers_302_to_the_consent_url_with_a_csrf_cookie(tpp_backend, server):
    browser, started = _start(tpp_backend)
    assert started.status_code == 302
    location = started.headers["location"]
    assert location.startswith(f"{server.url}/app/request-token/rq_")
    request_id = location.rsplit("/", 1)[1]
    cookie = started.headers["set-cookie"]
    assert f"wvb_tpp_csrf_{request_id}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_callback_verifies_reads_the_result_tells_the_hook_and_returns_to_the_app(tpp_backend, server):
    browser, callback = _flow_to_callback(server, tpp_backend)
    answer = browser.get(callback)
    assert answer.status_code == 302
    params = query(answer.headers["location"])
    assert answer.headers["location"].startswith("myapp://linked?")
    (heard,) = tpp_backend.heard
    assert heard.token_id == params["token-id"] and heard.error is None
    status = browser.get("/bank-link/status", params={"request-id": heard.request_id}).json()
    assert status == {"request_id": heard.request_id, "status": "PROCESSED", "token_id": heard.token_id}
    replay = browser.get(callback)
    assert replay.status_code == 403 and len(tpp_backend.heard) == 1


def test_an_error_callback_reaches_the_hook_and_the_user_sees_a_page(tpp_backend, server):
    tpp_backend.config.return_url = None
    browser, callback = _flow_to_callback(server, tpp_backend, decision="deny")
    page = browser.get(callback)
    assert page.status_code == 200 and "was not linked" in page.text and 'data-wvb-event="EXIT"' in page.text
    assert tpp_backend.heard[0].error == "access_denied" and tpp_backend.heard[0].token_id is None


def _resign(payload, secret, age_seconds=0):
    class Backdated(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age_seconds

    return URLSafeTimedSerializer(secret, salt="webview-bridge/callback", signer=Backdated,
                                  signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256}).dumps(payload)


def test_each_refusal_has_its_page_and_the_hook_hears_nothing(tpp_backend, server):
    browser, callback = _flow_to_callback(server, tpp_backend)
    params = query(callback)
    base = callback.split("?")[0]
    payload = URLSafeTimedSerializer(tpp_backend.creds.callback_secret, salt="webview-bridge/callback",
                                     signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256}).loads(params["state"])

    def attempt(client, state, **extra):
        return client.get(base, params={"request-id": params["request-id"], "token-id": params["token-id"],
                                        "state": state, **extra})

    assert attempt(browser, "not-a-state").status_code == 400
    assert attempt(browser, _resign(payload, "someone-elses-secret")).status_code == 400
    assert attempt(browser, _resign({**payload, "app_id": "app_other"}, tpp_backend.creds.callback_secret)).status_code == 400
    assert attempt(browser, _resign(payload, tpp_backend.creds.callback_secret, age_seconds=601)).status_code == 403
    stranger = httpx2.Client(follow_redirects=False)
    missing = attempt(stranger, params["state"])
    assert missing.status_code == 403 and "did not start" in missing.text
    cookie_name = f"wvb_tpp_csrf_{params['request-id']}"
    mismatched = httpx2.Client(follow_redirects=False, cookies={cookie_name: "not-the-csrf-token"})
    assert attempt(mismatched, params["state"]).status_code == 403
    assert tpp_backend.heard == []
    assert attempt(browser, params["state"]).status_code == 302  # the genuine one still works, once
    assert attempt(browser, params["state"]).status_code == 403
    assert len(tpp_backend.heard) == 1
