"""POST /oauth/token and /oauth/revoke against the live server, with Authlib's httpx OAuth2Client
as the client (a real OAuth client nobody here wrote)."""

import base64
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.base_client import OAuthError


def oauth_client(server, creds, **kwargs):
    return OAuth2Client(creds.app_id, creds.app_secret, token_endpoint=server.url + "/oauth/token", timeout=30, **kwargs)


def me(server, access_token):
    return httpx2.get(server.url + "/me", headers={"Authorization": f"Bearer {access_token}"})


def test_client_credentials_with_basic_auth_gives_a_usable_token_and_a_refresh_token(server, register_app):
    creds = register_app("tpp")
    with oauth_client(server, creds) as client:
        token = client.fetch_token(grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 3600
        assert token["refresh_token"] and token["access_token"] != token["refresh_token"]
        assert token["scope"] == "tpp"
        answer = client.get(server.url + "/me")
    assert answer.status_code == 200
    assert answer.json()["app"]["id"] == creds.app_id
    assert answer.json()["app"]["scope"] == ["tpp"]


def test_client_secret_post_works_too(server, register_app):
    creds = register_app("bank")
    with oauth_client(server, creds, token_endpoint_auth_method="client_secret_post") as client:
        token = client.fetch_token(grant_type="client_credentials")
    assert token["scope"] == "bank"
    assert me(server, token["access_token"]).status_code == 200


def test_the_token_response_is_not_cacheable(http, register_app):
    creds = register_app("tpp")
    response = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(creds.app_id, creds.app_secret))
    assert response.headers["cache-control"] == "no-store"


def test_refresh_rotates_and_reuse_revokes_the_whole_family(server, register_app):
    creds = register_app("tpp")
    with oauth_client(server, creds) as client:
        first = client.fetch_token(grant_type="client_credentials")
        second = client.refresh_token(server.url + "/oauth/token", refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert me(server, second["access_token"]).status_code == 200
        with pytest.raises(OAuthError) as reused:
            client.refresh_token(server.url + "/oauth/token", refresh_token=first["refresh_token"])
        assert reused.value.error == "invalid_grant"
    for token in (first, second):
        assert me(server, token["access_token"]).status_code == 401
    with oauth_client(server, creds) as client, pytest.raises(OAuthError) as after:
        client.refresh_token(server.url + "/oauth/token", refresh_token=second["refresh_token"])
    assert after.value.error == "invalid_grant"


def test_families_are_independent(server, register_app):
    creds = register_app("tpp")
    with oauth_client(server, creds) as client:
        one = client.fetch_token(grant_type="client_credentials")
        other = client.fetch_token(grant_type="client_credentials")
        client.refresh_token(server.url + "/oauth/token", refresh_token=one["refresh_token"])
        with pytest.raises(OAuthError):
            client.refresh_token(server.url + "/oauth/token", refresh_token=one["refresh_token"])
    assert me(server, other["access_token"]).status_code == 200


def _race(server, creds, refresh_token, n, urls=None):
    urls = urls or [server.url]

    def attempt(i):
        return httpx2.post(urls[i % len(urls)] + "/oauth/token", auth=(creds.app_id, creds.app_secret),
                          data={"grant_type": "refresh_token", "refresh_token": refresh_token}, timeout=60)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(attempt, range(n)))


def _assert_one_winner_then_family_revoked(base_urls, creds, answers):
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * (len(answers) - 1), statuses
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}
    winner = next(a.json() for a in answers if a.status_code == 200)
    for url in base_urls:
        assert httpx2.get(url + "/me", headers={"Authorization": f"Bearer {winner['access_token']}"}).status_code == 401
    late = httpx2.post(base_urls[0] + "/oauth/token", auth=(creds.app_id, creds.app_secret),
                      data={"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]})
    assert late.json()["error"] == "invalid_grant"


def test_sixteen_concurrent_refreshes_one_winner_then_the_family_is_revoked(server, register_app, http):
    creds = register_app("tpp")
    first = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(creds.app_id, creds.app_secret)).json()
    answers = _race(server, creds, first["refresh_token"], 16)
    _assert_one_winner_then_family_revoked([server.url], creds, answers)


def test_concurrent_refreshes_across_several_server_processes(database_url):
    from tests.support.processes import ServeProcess, cli_json

    creds_json = cli_json("apps", "create", "--database", database_url, "--name", "Racer", "--role", "tpp")
    creds = type("Creds", (), {"app_id": creds_json["app_id"], "app_secret": creds_json["app_secret"]})
    servers = [ServeProcess(database_url), ServeProcess(database_url)]
    try:
        first = httpx2.post(servers[0].url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(creds.app_id, creds.app_secret)).json()
        answers = _race(servers[0], creds, first["refresh_token"], 16, urls=[s.url for s in servers])
        _assert_one_winner_then_family_revoked([s.url for s in servers], creds, answers)
    finally:
        for s in servers:
            s.kill()


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_wrong_secret_and_unknown_app_answer_the_same_401(http, register_app, secret):
    creds = register_app("tpp")
    wrong = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(creds.app_id, secret or "x"))
    unknown = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("app_doesnotexist", "x"))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "password", "username": "u", "password": "p"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "not-a-token"}, 400, "invalid_grant"),
        ({"grant_type": "client_credentials", "scope": "bank"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "admin"}, 400, "invalid_scope"),
    ],
)
def test_rfc6749_errors(http, register_app, data, status, error):
    creds = register_app("tpp")
    response = http.post("/oauth/token", data=data, auth=(creds.app_id, creds.app_secret))
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_another_apps_refresh_token_is_invalid_grant_and_harms_nothing(http, register_app):
    mine, theirs = register_app("tpp"), register_app("tpp")
    their_token = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(theirs.app_id, theirs.app_secret)).json()
    stolen = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": their_token["refresh_token"]},
                       auth=(mine.app_id, mine.app_secret))
    assert stolen.json()["error"] == "invalid_grant"
    assert http.get("/me", headers={"Authorization": f"Bearer {their_token['access_token']}"}).status_code == 200


def test_malformed_requests_are_oauth_errors_never_500(http, register_app):
    creds = register_app("tpp")
    bad_basic = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()})
    assert (bad_basic.status_code, bad_basic.json()["error"]) == (401, "invalid_client")
    json_body = http.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=(creds.app_id, creds.app_secret))
    assert (json_body.status_code, json_body.json()["error"]) == (400, "invalid_request")
    repeated = http.post("/oauth/token", content="grant_type=client_credentials&grant_type=client_credentials",
                         headers={"content-type": "application/x-www-form-urlencoded"}, auth=(creds.app_id, creds.app_secret))
    assert (repeated.status_code, repeated.json()["error"]) == (400, "invalid_request")


@pytest.fixture
def server_at(database_url, clock):
    """Starts live servers on the test's database, each with the public URL it is given."""
    from tests.support.live import start_live_server
    from tests.support.postgres import free_port
    from webview_bridge.app import create_app
    from webview_bridge.settings import Settings

    started = []

    def start(public_url):
        port = free_port()
        live = start_live_server(create_app(Settings(database_url=database_url, port=port, public_url=public_url), clock), port)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


def test_https_is_decided_by_the_public_url_and_trusted_proxies_never_by_the_host_header(server_at, http, register_app):
    creds = register_app("tpp")

    def token(base_url, **headers):
        return httpx2.post(base_url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(creds.app_id, creds.app_secret), headers=headers)

    in_public = server_at("http://bridge.example.com").url  # plain http, reachable by others
    for host in ({}, {"Host": "localhost"}, {"Host": "127.0.0.1"}):  # a loopback Host once let plain http through
        refused = token(in_public, **host)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")
        assert "HTTPS" in refused.json()["error_description"]
    # The test client connects from 127.0.0.1, the proxy uvicorn trusts by default.
    assert token(in_public, **{"X-Forwarded-Proto": "https"}).status_code == 200
    behind_tls = server_at("https://bridge.example.com").url  # TLS ends at the operator's proxy
    assert token(behind_tls).status_code == 200
    assert token(behind_tls, Host="bridge.example.com").status_code == 200
    development = str(http.base_url).rstrip("/")  # public URL http://127.0.0.1:port
    assert token(development, Host="bridge.example.com").status_code == 200


def test_scopes_are_limited_to_the_apps_roles(http, register_app):
    both = register_app("both")
    token = http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "tpp"},
                      auth=(both.app_id, both.app_secret)).json()
    assert token["scope"] == "tpp"
    full = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(both.app_id, both.app_secret)).json()
    assert full["scope"] == "bank tpp"


def test_tokens_expire_by_the_clock(http, register_app, clock):
    creds = register_app("tpp")
    token = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(creds.app_id, creds.app_secret)).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    clock.advance(seconds=3599)
    assert http.get("/me", headers=auth).status_code == 200
    clock.advance(seconds=1)
    expired = http.get("/me", headers=auth)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
    clock.advance(days=30)
    late = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
                     auth=(creds.app_id, creds.app_secret))
    assert late.json()["error"] == "invalid_grant"


def test_bearer_guard_without_or_with_a_bad_token(http):
    missing = http.get("/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"]["code"] == "unauthorized"
    bad = http.get("/me", headers={"Authorization": "Bearer nonsense"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (401, "invalid_token")


def test_revoking_an_access_token(server, register_app):
    creds, other = register_app("tpp"), register_app("tpp")
    with oauth_client(server, creds) as client:
        token = client.fetch_token(grant_type="client_credentials")
        theirs = oauth_client(server, other).fetch_token(grant_type="client_credentials")
        # another app's token is unknown to us: 200, and it keeps working
        assert client.revoke_token(server.url + "/oauth/revoke", theirs["access_token"]).status_code == 200
        assert me(server, theirs["access_token"]).status_code == 200
        assert client.revoke_token(server.url + "/oauth/revoke", "never-issued").status_code == 200
        assert client.revoke_token(server.url + "/oauth/revoke", token["access_token"]).status_code == 200
    assert me(server, token["access_token"]).status_code == 401


def test_revoking_a_refresh_token_ends_its_family(server, register_app):
    creds = register_app("tpp")
    with oauth_client(server, creds) as client:
        first = client.fetch_token(grant_type="client_credentials")
        second = client.refresh_token(server.url + "/oauth/token", refresh_token=first["refresh_token"])
        response = client.revoke_token(server.url + "/oauth/revoke", second["refresh_token"], token_type_hint="refresh_token")
        assert response.status_code == 200
    assert me(server, second["access_token"]).status_code == 401


def test_revocation_needs_client_authentication(http):
    response = http.post("/oauth/revoke", data={"token": "x"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


@pytest.mark.databases("sqlite")
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(database_url):
    """`serve` believes X-Forwarded-Proto only from WEBVIEW_BRIDGE_FORWARDED_ALLOW_IPS."""
    from tests.support.processes import ServeProcess, cli_json

    creds = cli_json("apps", "create", "--database", database_url, "--name", "Behind a proxy", "--role", "tpp")
    env = {"WEBVIEW_BRIDGE_PUBLIC_URL": "http://bridge.example.com", "WEBVIEW_BRIDGE_FORWARDED_ALLOW_IPS": "10.9.9.9"}
    server = ServeProcess(database_url, env=env)
    try:
        answer = httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(creds["app_id"], creds["app_secret"]),
                             headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    finally:
        server.kill()
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")
