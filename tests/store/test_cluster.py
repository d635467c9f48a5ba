"""Several `serve` processes on one database behave as one server."""

import httpx2

from tests.support.customer import Customer, query
from tests.support.processes import ServeProcess, cli_json


def test_a_request_stored_on_one_instance_is_approved_through_another(database_url):
    creds = cli_json("apps", "create", "--database", database_url, "--name", "Two", "--role", "tpp",
                     "--redirect-url", "https://tpp.example/callback")
    first, second = ServeProcess(database_url), ServeProcess(database_url)
    try:
        token = httpx2.post(first.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(creds["app_id"], creds["app_secret"])).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = httpx2.post(first.url + "/token-requests", headers=auth, json={
            "resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": "x", "csrf_token": "c" * 20}).json()
        request_id = created["token_request"]["id"]
        back = Customer(second.url).run(f"{second.url}/app/request-token/{request_id}")
        token_id = query(back.headers["location"])["token-id"]
        result = httpx2.get(f"{first.url}/token-requests/{request_id}/result", headers=auth).json()
        assert result == {"request_id": request_id, "status": "PROCESSED", "token_id": token_id}
        assert httpx2.get(second.url + "/accounts", headers={**auth, "On-Behalf-Of": token_id}).status_code == 200
    finally:
        first.kill()
        second.kill()
