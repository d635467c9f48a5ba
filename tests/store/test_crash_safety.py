"""Nothing the server acknowledged is ever lost: a steady stream of writes (token requests,
approvals, refresh-token rotations), SIGKILL of the server mid-stream, a restart, and every
acknowledged write is there and consistent — on SQLite and on PostgreSQL."""

import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx2

from tests.support.customer import Customer
from tests.support.processes import ServeProcess, cli_json

BODY = {"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": "crash", "csrf_token": "c" * 20}
NO_LIMITS = {"WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_API": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_PAGES": "0"}


def test_acknowledged_writes_survive_sigkill(database_url):
    creds = cli_json("apps", "create", "--database", database_url, "--name", "Crash", "--role", "tpp",
                     "--redirect-url", "https://tpp.example/callback")
    auth = (creds["app_id"], creds["app_secret"])
    server = ServeProcess(database_url, env=NO_LIMITS)
    first = httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth).json()
    api = {"Authorization": f"Bearer {first['access_token']}"}
    acked_requests: list[str] = []
    acked_tokens: list[str] = []
    refresh = {"token": first["refresh_token"], "access": first["access_token"], "rotations": 0}
    stop = threading.Event()

    def store_requests():
        with httpx2.Client(base_url=server.url, headers=api, timeout=5) as client:
            while not stop.is_set():
                try:
                    answer = client.post("/token-requests", json=BODY)
                except httpx2.HTTPError:
                    return
                if answer.status_code == 201:
                    acked_requests.append(answer.json()["token_request"]["id"])

    def approve():
        while not stop.is_set():
            try:
                created = httpx2.post(server.url + "/token-requests", json=BODY, headers=api, timeout=5).json()
                back = Customer(server.url).run(created["url"])
            except (httpx2.HTTPError, AssertionError, KeyError):
                return
            if back.status_code == 302:
                acked_tokens.append(parse_qs(urlsplit(back.headers["location"]).query)["token-id"][0])

    def rotate():
        while not stop.is_set():
            try:
                answer = httpx2.post(server.url + "/oauth/token", auth=auth, timeout=5,
                                    data={"grant_type": "refresh_token", "refresh_token": refresh["token"]})
            except httpx2.HTTPError:
                return
            if answer.status_code == 200:  # acknowledged: from now on only the new pair may work
                body = answer.json()
                refresh.update(token=body["refresh_token"], access=body["access_token"], rotations=refresh["rotations"] + 1)

    workers = [threading.Thread(target=f) for f in (store_requests, store_requests, approve, rotate)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 20
    while (len(acked_tokens) < 3 or len(acked_requests) < 50) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL, mid-stream
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert len(acked_requests) >= 50 and acked_tokens and refresh["rotations"] >= 1

    restarted = ServeProcess(database_url, env=NO_LIMITS)
    try:
        with httpx2.Client(base_url=restarted.url, timeout=10) as client:
            fresh = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh["token"]}, auth=auth)
            if fresh.status_code != 200:
                # Only allowed if a rotation committed whose answer the kill swallowed: then the
                # acknowledged token was spent, and presenting it again rightly revoked the family.
                assert _pairs_in_family(database_url, first) > refresh["rotations"] + 1, fresh.text
                fresh = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
            headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
            for request_id in acked_requests:
                assert client.get(f"/token-requests/{request_id}", headers=headers).status_code == 200, request_id
            for token_id in acked_tokens:
                token = client.get(f"/tokens/{token_id}", headers=headers)
                assert token.status_code == 200 and token.json()["token"]["status"] == "ACTIVE"
                result = client.get(f"/token-requests/{token.json()['token']['request_id']}/result", headers=headers).json()
                assert result["status"] == "PROCESSED" and result["token_id"] == token_id
    finally:
        restarted.kill()


def _pairs_in_family(database_url, first_token):
    from sqlalchemy import func, select

    from webview_bridge.security.keyring import Keyring
    from webview_bridge.store import server_keys
    from webview_bridge.store.database import Database
    from webview_bridge.store.schema import oauth_tokens

    db = Database(database_url)
    try:
        ring = Keyring(server_keys.load(db))
        with db.read() as conn:
            family = conn.execute(select(oauth_tokens.c.family_id).where(
                oauth_tokens.c.access_token_hash == ring.hash(first_token["access_token"]))).scalar_one()
            return conn.execute(select(func.count()).select_from(oauth_tokens).where(oauth_tokens.c.family_id == family)).scalar_one()
    finally:
        db.dispose()
