"""Tokens and account data: only the grantee, only what was granted (PROTOCOL §7)."""

from datetime import timedelta

import pytest

ALL = ["ACCOUNTS", "BALANCES", "TRANSACTIONS", "TRANSFER_DESTINATIONS", "FUNDS_CONFIRMATIONS", "STANDING_ORDERS"]


@pytest.fixture
def granted(tpp):
    """alice at the sandbox bank granted everything on her first two accounts."""
    stored = tpp.store_request(resources=ALL, description="Budgeting", token_expiration_days=30)
    return tpp.approve(stored["id"], accounts=2)


def test_a_token_as_its_grantee_sees_it(tpp, granted):
    body = tpp.http.get(f"/tokens/{granted.id}").json()["token"]
    assert body["id"] == granted.id and body["app_id"] == tpp.app_id
    assert body["status"] == "ACTIVE" and body["bank_id"] == "sandbox"
    assert body["resources"] == ALL and len(body["account_ids"]) == 2
    assert body["expires_at"] == "2026-12-21T08:00:00Z"
    listed = tpp.http.get("/tokens", params={"status": "ACTIVE"}).json()
    assert [t["id"] for t in listed["tokens"]] == [granted.id]
    assert listed["paging"] == {"page": 1, "per_page": 50, "page_count": 1, "total_count": 1}


def test_accounts_balances_and_details(tpp, granted):
    headers = tpp.on_behalf_of(granted.id)
    accounts = tpp.http.get("/accounts", headers=headers).json()["accounts"]
    assert [a["id"] for a in accounts] == list(granted.account_ids)
    everyday = accounts[0]
    assert everyday["name"] == "Everyday Account" and everyday["currency"] == "GBP" and everyday["type"] == "CHECKING"
    assert everyday["account_details"]["account_holder_name"] == "Alice Andersson"
    assert tpp.http.get(f"/accounts/{everyday['id']}", headers=headers).json()["account"] == everyday
    balance = tpp.http.get(f"/accounts/{everyday['id']}/balance", headers=headers).json()["balance"]
    assert balance["account_id"] == everyday["id"]
    assert balance["current"]["currency"] == "GBP" and isinstance(balance["current"]["value"], str)
    assert balance["current"]["value"].count(".") == 1 and len(balance["current"]["value"].split(".")[1]) == 2


def test_transactions_page_by_cursor_and_filter_by_date(tpp, granted, clock):
    headers = tpp.on_behalf_of(granted.id)
    account_id = granted.account_ids[0]
    recent = tpp.http.get(f"/accounts/{account_id}/transactions", params={"limit": 200}, headers=headers).json()
    oldest_default = (clock.now().date() - timedelta(days=89)).isoformat()
    assert recent["transactions"] and min(t["booked_at"] for t in recent["transactions"]) >= oldest_default
    seen, cursor = [], None
    while True:
        params = {"limit": 200, "start_date": "2025-10-01", **({"offset": cursor} if cursor else {})}
        page = tpp.http.get(f"/accounts/{account_id}/transactions", params=params, headers=headers).json()
        seen += page["transactions"]
        cursor = page["offset"]
        if cursor is None:
            break
    assert len(seen) > 200 and len({t["id"] for t in seen}) == len(seen)
    assert seen[-1]["booked_at"] < "2025-10-21"  # more than 13 months back
    assert [t["booked_at"] for t in seen] == sorted((t["booked_at"] for t in seen), reverse=True)
    one = seen[5]
    assert tpp.http.get(f"/accounts/{account_id}/transactions/{one['id']}", headers=headers).json()["transaction"] == one
    march = tpp.http.get(f"/accounts/{account_id}/transactions", headers=headers,
                         params={"start_date": "2026-03-01", "end_date": "2026-03-31", "limit": 200}).json()
    assert march["transactions"] and all(t["booked_at"].startswith("2026-03") for t in march["transactions"])
    bad = tpp.http.get(f"/accounts/{account_id}/transactions", params={"offset": "garbage!"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cursor")
    over = tpp.http.get(f"/accounts/{account_id}/transactions", params={"limit": 201}, headers=headers)
    assert over.status_code == 400 and over.json()["error"]["field"] == "limit"
    backwards = tpp.http.get(f"/accounts/{account_id}/transactions", headers=headers,
                             params={"start_date": "2026-03-31", "end_date": "2026-03-01"})
    assert (backwards.status_code, backwards.json()["error"]["code"]) == (400, "invalid_date_range")


def test_a_forged_or_borrowed_cursor_is_400_not_500(tpp, granted):
    """A cursor is signed and bound to its token: tampering, or another token's, is refused."""
    headers = tpp.on_behalf_of(granted.id)
    account_id = granted.account_ids[0]
    page = tpp.http.get(f"/accounts/{account_id}/transactions", params={"limit": 1}, headers=headers).json()
    cursor = page["offset"]
    for forged in (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), "eyJhIjoxfQ.x.y", "MjAyNi0wMS0wMXx4"):
        answer = tpp.http.get(f"/accounts/{account_id}/transactions", params={"offset": forged}, headers=headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_cursor"), forged
    other = tpp.approve(tpp.store_request(resources=["ACCOUNTS", "TRANSACTIONS"])["id"])
    borrowed = tpp.http.get(f"/accounts/{other.account_ids[0]}/transactions", params={"offset": cursor},
                            headers=tpp.on_behalf_of(other.id))
    assert (borrowed.status_code, borrowed.json()["error"]["code"]) == (400, "invalid_cursor")


def test_standing_orders_destinations_and_funds(tpp, granted):
    headers = tpp.on_behalf_of(granted.id)
    account_id = granted.account_ids[0]
    orders = tpp.http.get(f"/accounts/{account_id}/standing-orders", headers=headers).json()["standing_orders"]
    assert len(orders) == 2 and orders[0]["frequency"] == "MONTHLY"
    destinations = tpp.http.get(f"/accounts/{account_id}/transfer-destinations", headers=headers).json()
    assert destinations["transfer_destinations"] and all(d["name"] for d in destinations["transfer_destinations"])
    assert {d["type"] for d in destinations["transfer_destinations"]} <= {"FASTER_PAYMENTS", "SEPA"}
    small = tpp.http.post(f"/accounts/{account_id}/funds-confirmation", headers=headers,
                          json={"amount": {"currency": "GBP", "value": "1.00"}})
    assert small.json() == {"funds_available": True}
    huge = tpp.http.post(f"/accounts/{account_id}/funds-confirmation", headers=headers,
                         json={"amount": {"currency": "GBP", "value": "99999999.00"}})
    assert huge.json() == {"funds_available": False}
    wrong = tpp.http.post(f"/accounts/{account_id}/funds-confirmation", headers=headers,
                          json={"amount": {"currency": "EUR", "value": "1.00"}})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "currency_mismatch")
    number = tpp.http.post(f"/accounts/{account_id}/funds-confirmation", headers=headers,
                           json={"amount": {"currency": "GBP", "value": 1}})
    assert (number.status_code, number.json()["error"]["field"]) == (400, "amount.value")


def test_only_the_grantee_redeems(tpp, other_tpp, granted):
    denied = other_tpp.http.get("/accounts", headers=other_tpp.on_behalf_of(granted.id))
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "not_grantee")
    assert "Everyday" not in denied.text
    assert other_tpp.http.get(f"/tokens/{granted.id}").status_code == 404
    assert other_tpp.http.put(f"/tokens/{granted.id}/cancel").status_code == 404
    assert tpp.http.get(f"/tokens/{granted.id}").json()["token"]["status"] == "ACTIVE"


def test_only_what_was_granted(tpp):
    every = tpp.approve(tpp.store_request(resources=["ACCOUNTS"])["id"])
    token = tpp.approve(tpp.store_request(resources=["ACCOUNTS"])["id"], accounts=1)
    headers = tpp.on_behalf_of(token.id)
    granted_account = token.account_ids[0]
    assert granted_account == every.account_ids[0]  # one bank account keeps its id across consents
    refused = tpp.http.get(f"/accounts/{granted_account}/balance", headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "resource_not_granted")
    for account_id in every.account_ids[1:]:  # alice's other accounts do not exist for this token
        missing = tpp.http.get(f"/accounts/{account_id}", headers=headers)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "account_not_found")
    assert [a["id"] for a in tpp.http.get("/accounts", headers=headers).json()["accounts"]] == [granted_account]


def test_on_behalf_of_is_required_and_checked(tpp):
    missing = tpp.http.get("/accounts")
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "missing_on_behalf_of")
    unknown = tpp.http.get("/accounts", headers=tpp.on_behalf_of("tt_nope"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "token_not_found")


def test_cancel_is_idempotent_and_ends_redemption(tpp, granted):
    headers = tpp.on_behalf_of(granted.id)
    mismatch = tpp.http.put(f"/tokens/{granted.id}/cancel", json={"description": "something else"})
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (409, "description_mismatch")
    assert tpp.http.get("/accounts", headers=headers).status_code == 200
    first = tpp.http.put(f"/tokens/{granted.id}/cancel", json={"description": "Budgeting"})
    assert first.status_code == 200 and first.json()["token"]["status"] == "CANCELLED"
    again = tpp.http.put(f"/tokens/{granted.id}/cancel")
    assert again.status_code == 200 and again.json()["token"]["status"] == "CANCELLED"
    refused = tpp.http.get("/accounts", headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "token_cancelled")
    assert tpp.http.get("/tokens", params={"status": "CANCELLED"}).json()["paging"]["total_count"] == 1


def test_tokens_expire_after_their_days(tpp, granted, clock):
    headers = tpp.on_behalf_of(granted.id)
    clock.advance(days=29, hours=23)
    tpp.renew()
    assert tpp.http.get("/accounts", headers=headers).status_code == 200
    clock.advance(hours=1)
    tpp.renew()
    expired = tpp.http.get("/accounts", headers=headers)
    assert (expired.status_code, expired.json()["error"]["code"]) == (403, "token_expired")
    assert tpp.http.get(f"/tokens/{granted.id}").json()["token"]["status"] == "EXPIRED"
    assert tpp.http.get("/tokens", params={"status": "EXPIRED"}).json()["paging"]["total_count"] == 1
    assert tpp.http.get("/tokens", params={"status": "ACTIVE"}).json()["tokens"] == []


def test_banks_without_a_feature(tpp):
    stored = tpp.store_request(resources=["ACCOUNTS", "TRANSACTIONS"], bank_id="muehlental")
    token = tpp.approve(stored["id"], bank_id="muehlental")
    headers = tpp.on_behalf_of(token.id)
    refused = tpp.http.get(f"/accounts/{token.account_ids[0]}/transactions", params={"start_date": "2026-01-01"}, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "date_filter_not_supported")
    assert tpp.http.get(f"/accounts/{token.account_ids[0]}/transactions", headers=headers).status_code == 200
    polder = tpp.approve(tpp.store_request(resources=["ACCOUNTS"], bank_id="polderbank")["id"], bank_id="polderbank")
    account = tpp.http.get("/accounts", headers=tpp.on_behalf_of(polder.id)).json()["accounts"][0]
    assert account["account_details"] is None


def test_a_bank_app_cannot_redeem(server, register_app, granted):
    from tests.conftest import Tpp

    bank = Tpp(server, register_app("bank"))
    refused = bank.http.get("/accounts", headers={"On-Behalf-Of": granted.id})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "insufficient_role")


def test_fuzz_finding_a_huge_page_number_is_400_not_500(tpp, http):
    """schemathesis sent GET /tokens?page=2233544799024921182208: SQL's OFFSET overflowed (500)."""
    answer = tpp.http.get("/tokens", params={"page": "2233544799024921182208", "status": "CANCELLED"})
    assert (answer.status_code, answer.json()["error"]["code"], answer.json()["error"]["field"]) == (400, "out_of_range", "page")
    assert http.get("/banks", params={"page": "2233544799024921182208"}).status_code == 400
    assert tpp.http.get("/tokens", params={"page": 1_000_000}).json()["tokens"] == []
