"""Log hygiene: a whole flow — OAuth, token request, client-token hand-off, bank login, consent,
redemption — and not one secret or token in any log line."""

import logging

import httpx2

from tests.conftest import Tpp
from tests.support.customer import Customer, query
from webview_bridge.logs import JsonFormatter


def test_no_secret_or_token_reaches_a_log_line(server, register_app, caplog):
    with caplog.at_level(logging.DEBUG):
        tpp_creds = register_app("tpp")
        bank_creds = register_app("bank", bank_id="sandbox")
        tpp, bank = Tpp(server, tpp_creds), Tpp(server, bank_creds)
        refreshed = httpx2.post(server.url + "/oauth/token", auth=(tpp_creds.app_id, tpp_creds.app_secret),
                               data={"grant_type": "client_credentials"}).json()
        bank.http.put("/customers", json={"customers": [{"client_id": "alice", "phones": []}]})
        client_token = bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 10, "client_id": "alice",
                                                                         "strong_auth": True}]).json()[0]["client_token"]
        csrf = "csrf-token-that-must-not-be-logged"
        stored = tpp.store_request(csrf_token=csrf, bank_id="sandbox")
        person = Customer(server.url)
        entry = person.http.get(f"/app/request-token/{stored['id']}", headers={"Authorization": f"Bearer {client_token}"})
        page = person.follow(entry)  # the trusted path: accounts to tick here, no bank page
        back = person.decide(page, "allow", accounts=person.accounts(page)[:1])
        token_id = query(back.headers["location"])["token-id"]
        tpp.http.get("/accounts", headers={"On-Behalf-Of": token_id})
        httpx2.post(server.url + "/oauth/token", auth=(tpp_creds.app_id, "wrong-secret"), data={"grant_type": "client_credentials"})
    secrets = {
        "app secret": tpp_creds.app_secret, "bank app secret": bank_creds.app_secret,
        "callback secret": tpp_creds.callback_secret, "access token": tpp.access_token,
        "refresh token": refreshed["refresh_token"], "client token": client_token, "csrf token": csrf,
        "session cookie": person.http.cookies["wvb_session"], "signed state": query(back.headers["location"])["state"],
        "wrong secret": "wrong-secret",
    }
    formatter = JsonFormatter()
    # The server's loggers (ours, uvicorn, authlib, SQLAlchemy); the test's own HTTP client logs what it sent.
    lines = [formatter.format(r) for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any('"route":"/app/request-token/{request_id}"' in line for line in lines)  # the flow was logged…
    for name, value in secrets.items():
        leaking = [line[:300] for line in lines if value in line]
        assert not leaking, f"{name} appears in the log: {leaking}"  # …without its secrets


def test_a_crash_is_one_json_line_without_the_values_the_database_was_given(database_url):
    """A live `serve` process whose stderr is kept: an unhandled database error is reported once,
    as JSON, naming the failed constraint but not the customer ids it was about."""
    import json
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from tests.support.processes import ServeProcess, cli_json

    secret_client_id = "client-7d41c9-must-not-be-logged"
    banks = [cli_json("apps", "create", "--database", database_url, "--name", f"Bank {i}", "--role", "bank",
                      "--bank-id", "sandbox") for i in range(2)]
    # A constraint the code does not expect (client ids unique across all banks) makes the second
    # bank's insert fail inside the handler, as an unforeseen database error would.
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE UNIQUE INDEX test_only_client_id_everywhere ON customers (client_id)"))
    engine.dispose()
    server = ServeProcess(database_url)
    try:
        tokens = [httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(b["app_id"], b["app_secret"])).json()["access_token"] for b in banks]
        body = {"customers": [{"client_id": secret_client_id, "phones": []}]}
        answers = [httpx2.put(server.url + "/customers", json=body, headers={"Authorization": f"Bearer {t}"})
                   for t in tokens]
        # uvicorn reports a crash after the answer has left; one more answer means that report is written.
        assert httpx2.get(server.url + "/healthz").status_code == 200
    finally:
        server.kill()
    assert [a.status_code for a in answers] == [200, 500]
    trace_id = answers[1].headers["x-trace-id"]
    logged = Path(server.log.name).read_text()
    lines = logged.splitlines()
    for line in lines:
        json.loads(line)  # every line is JSON: no plain traceback from uvicorn beside ours
    crashes = [json.loads(line) for line in lines if json.loads(line).get("level") == "error"]
    assert len(crashes) == 1, logged[-3000:]
    (crash,) = crashes
    assert crash["trace_id"] == trace_id and crash["message"] == "unhandled error"
    assert "IntegrityError" in crash["exception"] and "customers" in crash["exception"]
    assert secret_client_id not in logged and "cus_" not in logged
