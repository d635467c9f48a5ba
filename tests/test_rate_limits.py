"""The default rate limits of PROTOCOL §1: 429 with Retry-After, configurable, by the clock,
and shared across instances on PostgreSQL."""

import base64
import time

import httpx2
import pytest

from tests.conftest import Tpp
from tests.support.customer import Customer
from tests.support.live import start_live_server
from webview_bridge.app import create_app
from webview_bridge.settings import Settings


@pytest.fixture
def tight(database_url, server_port, clock):
    settings = Settings(database_url=database_url, port=server_port, public_url=f"http://127.0.0.1:{server_port}",
                        rate_limit_api=3, rate_limit_token=4, rate_limit_pages=2, rate_limit_token_failures=3)
    live = start_live_server(create_app(settings, clock), server_port)
    yield live
    live.stop()


def _register(live):
    from webview_bridge.domain.apps import ROLE_CHOICES
    from webview_bridge.store import apps

    runtime = live.runtime
    return apps.create(runtime.db, runtime.keyring, runtime.clock, name="t", roles=ROLE_CHOICES["tpp"],
                       redirect_urls=("https://tpp.example/callback",))


def test_the_json_api_limit_per_app(tight, clock):
    tpp = Tpp(tight, _register(tight))
    answers = [tpp.http.get("/me") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    other = Tpp(tight, _register(tight))
    assert other.http.get("/me").status_code == 200  # another app has its own budget
    clock.advance(seconds=60)
    assert tpp.http.get("/me").status_code == 200


def _token(live, creds=None, *, app_id=None, secret=None, address="10.0.0.1", endpoint="/oauth/token", **form):
    """A client-credentials request from `address` (the test client is uvicorn's trusted proxy, so
    X-Forwarded-For sets the client address the server sees)."""
    app_id = app_id or creds.app_id
    secret = creds.app_secret if secret is None else secret
    authorization = "Basic " + base64.b64encode(f"{app_id}:{secret}".encode()).decode()
    return httpx2.post(live.url + endpoint, data={"grant_type": "client_credentials", "token": "t", **form},
                       headers={"Authorization": authorization, "X-Forwarded-For": address})


def test_outsiders_who_know_an_app_id_cannot_spend_its_budget(tight):
    creds = _register(tight)
    encoded = creds.app_id.replace("_", "%5F")  # RFC 6749 §2.3.1 form-encoding: the same app id
    attempts = [_token(tight, creds, secret="wrong"), _token(tight, creds, app_id=encoded, secret="wrong"),
                _token(tight, creds, secret="wrong"), _token(tight, creds, app_id=encoded, secret="wrong"),
                httpx2.post(tight.url + "/oauth/token", headers={"X-Forwarded-For": "10.0.0.1"},
                            data={"grant_type": "client_credentials", "client_id": creds.app_id, "client_secret": "wrong"})]
    assert [a.status_code for a in attempts] == [401, 401, 401, 429, 429]  # however the id was written
    limited = attempts[-1]
    assert limited.json()["error"] == "temporarily_unavailable" and 1 <= int(limited.headers["retry-after"]) <= 60
    # The app itself, even from the outsider's address, has its whole budget: 4 a minute here.
    assert [_token(tight, creds).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    assert _token(tight, creds, secret="wrong", address="10.0.0.2").status_code == 401  # failures count per address


def test_made_up_ids_of_any_length_are_counted_not_crashed_on(tight):
    huge, odd = "app_" + "x" * 2000, "2001:db8::" + "f" * 200
    assert [_token(tight, app_id=huge, secret="s", address=odd).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_failures_for_an_unknown_app_id_are_limited_alike(tight, clock):
    ghost = "app_" + "G" * 22
    statuses = [_token(tight, app_id=ghost, secret="s").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]  # the same answers as for a real app: nothing tells it apart
    clock.advance(seconds=60)
    assert _token(tight, app_id=ghost, secret="s").status_code == 401


def test_revocation_shares_the_token_endpoints_limits(tight):
    creds = _register(tight)
    assert [_token(tight, creds, endpoint=e).status_code for e in ("/oauth/token", "/oauth/revoke", "/oauth/token",
                                                                   "/oauth/revoke")] == [200, 200, 200, 200]
    assert _token(tight, creds, endpoint="/oauth/revoke").status_code == 429
    assert _token(tight, creds).status_code == 429
    failures = [_token(tight, creds, secret="wrong", endpoint=e, address="10.0.0.3").status_code
                for e in ("/oauth/revoke", "/oauth/token", "/oauth/revoke", "/oauth/token")]
    assert failures == [401, 401, 401, 429]


def test_the_failure_limit_is_configurable():
    from webview_bridge.settings import settings_from_env

    assert Settings().rate_limit_token_failures == 300
    assert settings_from_env({"WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN_FAILURES": "7"}).rate_limit_token_failures == 7
    assert settings_from_env({"WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN_FAILURES": "0"}).rate_limit_token_failures == 0


def test_page_form_posts_per_session(tight):
    creds = _register(tight)
    tpp = Tpp(tight, creds)
    request_id = tpp.store_request()["id"]
    person = Customer(tight.url)
    page = person.get(f"/app/request-token/{request_id}")
    posts = [person.http.post(f"/app/request-token/{request_id}/bank", data={"csrf": person.csrf(page), "bank_id": "polderbank"})
             for _ in range(3)]
    assert [p.status_code for p in posts] == [302, 302, 429]
    assert posts[-1].headers["retry-after"]


@pytest.mark.databases("postgresql")
def test_limits_are_shared_by_every_instance_on_postgresql(database_url):
    from tests.support.processes import ServeProcess, cli_json

    creds = cli_json("apps", "create", "--database", database_url, "--name", "Shared", "--role", "tpp")
    env = {"WEBVIEW_BRIDGE_RATE_LIMIT_API": "5"}
    servers = [ServeProcess(database_url, env=env), ServeProcess(database_url, env=env)]
    try:
        token = httpx2.post(servers[0].url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(creds["app_id"], creds["app_secret"])).json()["access_token"]
        sent = []  # (window before, window after, status): the servers count in real one-minute windows
        for i in range(12):
            before = int(time.time()) // 60
            status = httpx2.get(servers[i % 2].url + "/me", headers={"Authorization": f"Bearer {token}"}).status_code
            sent.append((before, int(time.time()) // 60, status))
    finally:
        for server in servers:
            server.kill()
    # In each window, whichever instance answered: 5 successes, then 429s. 12 requests put 6 or more in one window.
    for window in {b for b, a, _ in sent if a == b}:
        statuses = [status for b, a, status in sent if b == a == window]
        assert statuses == [200] * min(len(statuses), 5) + [429] * max(0, len(statuses) - 5), statuses
    assert any(status == 429 for *_, status in sent)
