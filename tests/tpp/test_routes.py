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


def _respelled(state: str) -> str:
    """The same signed state written differently: the signature's last base64 character carries
    two bits that decoding drops, so another character there decodes to the same signature."""
    import base64

    payload, _, signature = state.rpartition(".")
    original = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for char in alphabet:
        candidate = signature[:-1] + char
        if char != signature[-1] and base64.urlsafe_b64decode(candidate + "=" * (-len(candidate) % 4)) == original:
            return f"{payload}.{candidate}"
    raise AssertionError("no other spelling found")


def test_single_use_is_per_request_however_the_state_is_written_or_re_signed(tpp_backend, server):
    browser, callback = _flow_to_callback(server, tpp_backend)
    params = query(callback)
    base = callback.split("?")[0]
    secret = tpp_backend.creds.callback_secret
    payload = URLSafeTimedSerializer(secret, salt="webview-bridge/callback",
                                     signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256}).loads(params["state"])

    # A second tab of the same browser, or whoever copied its cookie: the CSRF check passes for them.
    twin = httpx2.Client(follow_redirects=False, cookies=dict(browser.cookies))

    def attempt(state):
        return twin.get(base, params={**params, "state": state})

    assert browser.get(callback).status_code == 302
    respelled, resigned = _respelled(params["state"]), _resign(payload, secret, age_seconds=5)
    assert respelled != params["state"] and resigned != params["state"]
    for state in (respelled, resigned):
        replay = attempt(state)
        assert replay.status_code == 403 and "already used" in replay.text
    assert len(tpp_backend.heard) == 1


@pytest.mark.parametrize("request_id", ["rq_\x01x", "rq_abc\n", "rq_../../me", "../me?x=", "rq_a/b", "rq_a%2Fb", "tt_abc", "rq_",
                                        "rq_a b", "rq_" + "a" * 200])
def test_status_takes_only_request_ids(tpp_backend, request_id):
    answer = httpx2.get(tpp_backend.url + "/bank-link/status", params={"request-id": request_id})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == {"code": "invalid_value", "message": answer.json()["error"]["message"],
                                      "field": "request-id"}


def test_the_csrf_cookie_is_secure_unless_the_tpps_own_public_url_is_loopback_http(server, register_app):
    """The helper's public URL is its registered callback's: a Host header cannot turn Secure off."""
    redirect_url = "https://tpp.example/bank-link/callback"
    creds = register_app("tpp", redirect_urls=(redirect_url,))
    config = TppConfig(server_url=server.url, app_id=creds.app_id, app_secret=creds.app_secret,
                       callback_secrets=[creds.callback_secret], redirect_url=redirect_url)
    live = start_live_server(Starlette(routes=[Mount("/bank-link", app=tpp_app(config))]))
    try:
        for host in ({}, {"Host": "localhost"}, {"Host": "127.0.0.1"}):
            started = httpx2.get(live.url + "/bank-link/start", headers=host)
            assert started.status_code == 302 and "; secure" in started.headers["set-cookie"].lower(), started.headers
    finally:
        live.stop()


def test_on_a_loopback_development_backend_the_cookie_works_over_plain_http(tpp_backend):
    started = httpx2.get(tpp_backend.url + "/bank-link/start", headers={"Host": "tpp.example"})
    assert started.status_code == 302 and "secure" not in started.headers["set-cookie"].lower()


def test_the_webhooks_endpoint_verifies_and_hands_each_event_to_the_hook_once(server, register_app):
    from webview_bridge.tpp import BridgeClient

    port = free_port()
    creds = register_app("tpp", redirect_urls=(f"http://127.0.0.1:{port}/bank-link/callback",))
    heard = []
    config = TppConfig(server_url=server.url, app_id=creds.app_id, app_secret=creds.app_secret,
                       callback_secrets=[creds.callback_secret], redirect_url=f"http://127.0.0.1:{port}/bank-link/callback",
                       on_event=lambda event, request: heard.append(event))
    live = start_live_server(Starlette(routes=[Mount("/bank-link", app=tpp_app(config))]), port)
    try:
        with BridgeClient(server.url, creds.app_id, creds.app_secret) as client:
            made = client.create_webhook(f"{live.url}/bank-link/webhooks")
            config.webhook_secrets = [made.secret]
            assert [w.id for w in client.get_webhooks()] == [made.id] and client.get_webhook(made.id).status == "active"
            stored = client.store_token_request(resources=["ACCOUNTS"], redirect_url=config.redirect_url, ref_id="w",
                                                csrf_token="c" * 20)
            Customer(server.url).run(stored.url, decision="deny")
            server.run(server.app.state.worker.run_due())
            assert [e["type"] for e in heard] == ["token_request.rejected"]
            event = client.get_events()[-1]
            assert event.id == heard[0]["id"] and event.data == {"request_id": stored.token_request.id, "error": "access_denied"}
            # The server retries with the same id: the hook hears it once.
            from webview_bridge.store import outbox
            from webview_bridge.store.events import DELIVER
            with server.runtime.db.write() as conn:
                outbox.enqueue(conn, server.runtime.clock, DELIVER, {"webhook_id": made.id, "event_id": event.id})
            server.run(server.app.state.worker.run_due())
            assert len(heard) == 1
            forged = httpx2.post(f"{live.url}/bank-link/webhooks", content=b'{"id":"ev_x","type":"token.cancelled"}',
                                 headers={"webhook-id": "ev_x", "webhook-timestamp": str(int(time.time())),
                                          "webhook-signature": "v1,AAAA"})
            assert forged.status_code == 400 and len(heard) == 1
            client.delete_webhook(made.id)
            assert client.get_webhooks() == []
    finally:
        live.stop()


def test_a_renewal_from_start_needs_the_tpps_consent(tpp_backend, server):
    refused = httpx2.get(f"{tpp_backend.url}/bank-link/start", params={"replaces_token_id": "tt_someone"})
    assert refused.status_code == 403
