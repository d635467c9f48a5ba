"""POST/GET /token-requests and the result lookup, against the live server on both databases."""

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest


def test_store_a_request_and_read_it_back(tpp, clock):
    response = tpp.http.post("/token-requests", json={
        "resources": ["ACCOUNTS", "BALANCES"], "redirect_url": "https://tpp.example/callback",
        "ref_id": "order-42", "csrf_token": "a" * 32, "callback_state": "opaque-state", "bank_id": "sandbox",
        "from_alias": {"type": "EMAIL", "value": "ann@example.com"}, "token_expiration_days": 30,
        "acting_as": {"display_name": "Budget Buddy", "ref_id": "bb-1", "logo_url": "https://bb.example/logo.png"},
        "countries": ["GB", "DE"], "receipt_requested": True, "trace_id": "trace-1",
    })
    assert response.status_code == 201
    body = response.json()
    stored = body["token_request"]
    assert stored["id"].startswith("rq_") and len(stored["id"]) >= 3 + 22
    assert body["url"] == f"{tpp.server.url}/app/request-token/{stored['id']}"
    assert stored["status"] == "PENDING"
    assert stored["created_at"] == "2026-11-21T08:00:00Z" and stored["expires_at"] == "2026-11-21T08:20:00Z"
    assert stored["csrf_token_hash"] == hashlib.sha256(b"a" * 32).hexdigest()
    assert "csrf_token" not in stored and "a" * 32 not in response.text
    assert stored["description"] == "order-42"  # defaults to ref_id
    assert stored["acting_as"]["display_name"] == "Budget Buddy"
    assert tpp.http.get(f"/token-requests/{stored['id']}").json()["token_request"] == stored


def test_another_app_cannot_see_a_request(tpp, other_tpp):
    stored = tpp.store_request()
    assert other_tpp.http.get(f"/token-requests/{stored['id']}").status_code == 404
    assert other_tpp.http.get(f"/token-requests/{stored['id']}/result").status_code == 404
    assert tpp.http.get("/token-requests/rq_doesnotexist").status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"resources": []}, 400, "invalid_length", "resources"),
        ({"resources": ["ACCOUNTS", "ACCOUNTS"]}, 400, "invalid_value", "resources"),
        ({"resources": ["PAYMENTS"]}, 400, "invalid_value", "resources[0]"),
        ({"redirect_url": "https://evil.example/cb"}, 400, "redirect_url_not_registered", "redirect_url"),
        ({"redirect_url": "https://tpp.example/callback/"}, 400, "redirect_url_not_registered", "redirect_url"),
        ({"ref_id": "has space"}, 400, "invalid_value", "ref_id"),
        ({"ref_id": "x" * 65}, 400, "invalid_value", "ref_id"),
        ({"ref_id": "4111111111111111"}, 400, "pan_detected", "ref_id"),
        ({"description": "card 4111 1111 1111 1111"}, 400, "pan_detected", "description"),
        ({"description": "line\nbreak"}, 400, "invalid_value", "description"),
        ({"description": "x" * 256}, 400, "invalid_length", "description"),
        ({"csrf_token": "short"}, 400, "invalid_length", "csrf_token"),
        ({"callback_state": "s" * 2049}, 400, "invalid_length", "callback_state"),
        ({"bank_id": "no-such-bank"}, 400, "unknown_bank", "bank_id"),
        ({"bank_id": "harbourside", "resources": ["STANDING_ORDERS"]}, 400, "resource_not_supported", "resources[0]"),
        ({"customization_id": "cz_someone_elses"}, 400, "unknown_customization", "customization_id"),
        ({"from_alias": {"type": "EMAIL", "value": "not-an-email"}}, 400, "invalid_alias", "from_alias"),
        ({"from_alias": {"type": "PHONE", "value": "0770090012"}}, 400, "invalid_alias", "from_alias"),
        ({"from_alias": {"type": "FAX", "value": "1"}}, 400, "invalid_value", "from_alias.type"),
        ({"token_expiration_days": 0}, 400, "out_of_range", "token_expiration_days"),
        ({"token_expiration_days": 181}, 400, "out_of_range", "token_expiration_days"),
        ({"token_expiration_days": "60"}, 400, "invalid_type", "token_expiration_days"),
        ({"token_expiration_days": True}, 400, "invalid_type", "token_expiration_days"),
        ({"token_expiration_days": 30.0}, 400, "invalid_type", "token_expiration_days"),
        ({"acting_as": {"display_name": "X", "logo_url": "http://x.example/l.png"}}, 400, "invalid_value", "acting_as.logo_url"),
        ({"countries": ["germany"]}, 400, "invalid_value", "countries"),
        ({"receipt_requested": "yes"}, 400, "invalid_type", "receipt_requested"),
        ({"redirect_uri": "https://tpp.example/callback"}, 400, "unknown_field", "redirect_uri"),
    ],
)
def test_each_rule_has_its_own_code_and_field_and_stores_nothing(tpp, change, status, code, field):
    body = {"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": "r-1",
            "csrf_token": "c" * 20, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = tpp.http.post("/token-requests", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error.get("field")) == (code, field)
    from webview_bridge.store.schema import token_requests
    from sqlalchemy import func, select

    with tpp.server.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(token_requests)).scalar_one() == 0


VISA = "4111111111111111"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ref_id": "4111-1111-1111-1111"}, "ref_id"),
        ({"ref_id": "4111 1111 1111 1111"}, "ref_id"),  # also breaks ref_id's pattern: the card number is named first
        ({"ref_id": "4111_1111_1111_1111"}, "ref_id"),
        ({"description": "card 4111  1111  1111  1111"}, "description"),
        ({"description": "card 4111 - 1111 - 1111 - 1111"}, "description"),
        ({"description": "card ４１１１１１１１１１１１１１１１"}, "description"),
        ({"description": "card ٤١١١ ١١١١ ١١١١ ١١١١"}, "description"),
        ({"description": "x" * 250 + " " + VISA}, "description"),  # also too long
        ({"description": VISA + "\n"}, "description"),  # also not printable
        ({"callback_state": "s:" + VISA}, "callback_state"),
        ({"callback_state": "4111.1111.1111.1111" + "s" * 2048}, "callback_state"),  # also too long
        ({"acting_as": {"display_name": "4111–1111–1111–1111"}}, "acting_as.display_name"),
        ({"acting_as": {"display_name": "Budget Buddy", "secondary_name": "for 4111/1111/1111/1111"}},
         "acting_as.secondary_name"),
        ({"acting_as": {"display_name": "Budget Buddy", "ref_id": "4111.1111.1111.1111"}}, "acting_as.ref_id"),
        ({"from_alias": {"type": "USERNAME", "value": VISA}}, "from_alias.value"),
        ({"from_alias": {"type": "EMAIL", "value": VISA + "@example.com"}}, "from_alias.value"),
        ({"from_alias": {"type": "EMAIL", "value": "4111 1111 1111 1111"}}, "from_alias.value"),  # also no email
        ({"trace_id": VISA}, "trace_id"),
        ({"trace_id": "4111,1111,1111,1111"}, "trace_id"),  # also breaks trace_id's pattern
    ],
)
def test_card_numbers_are_refused_in_every_free_text_field_before_any_other_problem(tpp, change, field):
    body = {"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback", "ref_id": "r-1",
            "csrf_token": "c" * 20, **change}
    response = tpp.http.post("/token-requests", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("pan_detected", field)
    assert "card number" in error["message"] and "4111" not in response.text
    from sqlalchemy import func, select

    from webview_bridge.store.schema import token_requests

    with tpp.server.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(token_requests)).scalar_one() == 0


def test_digits_that_are_not_a_card_number_are_kept(tpp):
    stored = tpp.store_request(description="order 2026-11-21 of 4111 1111 1111 1111 1111 items",  # 20 digits
                               callback_state="4111    1111    1111    1111")  # four spaces break the run
    assert stored["callback_state"] == "4111    1111    1111    1111"


def test_missing_fields_and_malformed_bodies(tpp):
    missing = tpp.http.post("/token-requests", json={"resources": ["ACCOUNTS"]})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_field"
    broken = tpp.http.post("/token-requests", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "malformed_json"
    array = tpp.http.post("/token-requests", json=[1, 2])
    assert array.status_code == 400 and array.json()["error"]["code"] == "invalid_type"
    form = tpp.http.post("/token-requests", data={"ref_id": "x"})
    assert form.status_code == 415


def test_roles_and_credentials(server, register_app, http):
    from tests.conftest import Tpp

    bank = Tpp(server, register_app("bank"))
    refused = bank.http.post("/token-requests", json={})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "insufficient_role")
    assert http.post("/token-requests", json={}).status_code == 401


def test_result_visibility_and_expiry_by_the_clock(tpp, other_tpp, clock, http):
    stored = tpp.store_request(description="Link your bank")
    path = f"/token-requests/{stored['id']}/result"
    assert http.get(path).json() == {"request_id": stored["id"], "status": "PENDING"}
    clock.advance(minutes=19, seconds=59)
    assert http.get(path).status_code == 200
    clock.advance(seconds=1)
    assert http.get(path).status_code == 404  # anonymous, after expiry
    assert tpp.http.get(path).json()["status"] == "EXPIRED"  # its creator, at any time
    assert other_tpp.http.get(path).status_code == 404
    assert tpp.http.get(f"/token-requests/{stored['id']}").json()["token_request"]["status"] == "EXPIRED"
    assert http.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_result_after_approval_and_the_description_rule(tpp, http):
    stored = tpp.store_request(description="Link your bank")
    token = tpp.approve(stored["id"])
    path = f"/token-requests/{stored['id']}/result"
    assert http.get(path).json() == {"request_id": stored["id"], "status": "PROCESSED", "token_id": token.id}
    assert http.get(path, params={"description": "Link your bank"}).status_code == 200
    mismatch = http.get(path, params={"description": "Link your BANK"})
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (409, "description_mismatch")


def test_a_request_is_approved_at_most_once_under_32_concurrent_approvals(tpp):
    """The guarded UPDATE is the lock: of 32 approvals racing in the store, one makes the token."""
    from sqlalchemy import func, select

    from webview_bridge.domain.consent import Approval
    from webview_bridge.store import token_requests
    from webview_bridge.store.schema import tokens

    stored = tpp.store_request()
    runtime = tpp.server.runtime
    approval = Approval("sandbox", "cus_x", "alice", ("acc_1",), "{}", "alice")
    with ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(lambda n: token_requests.approve(
            runtime.db, runtime.clock, runtime.keyring, stored["id"], approval, f"session-{n}"), range(32)))
    assert len([t for t in outcomes if t is not None]) == 1
    with runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(tokens)).scalar_one() == 1


def test_an_expired_request_cannot_be_approved(tpp, clock):
    stored = tpp.store_request()
    clock.advance(minutes=20)
    assert tpp.approve(stored["id"]) is None


def test_the_openapi_document_describes_the_api(http):
    spec = http.get("/openapi.json").json()
    for path in ("/token-requests", "/token-requests/{request_id}/result", "/tokens/{token_id}/cancel",
                 "/accounts/{account_id}/transactions", "/banks", "/oauth/token"):
        assert path in spec["paths"], path
    create = spec["paths"]["/token-requests"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TokenRequestIn"}
    assert spec["components"]["schemas"]["TokenRequestIn"]["additionalProperties"] is False
    assert "403" in create["responses"] and "401" in create["responses"]
