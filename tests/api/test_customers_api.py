"""PUT /customers, client tokens and activations against the live server, on both databases."""

import pytest

from tests.conftest import Tpp
from webview_bridge import phone_hash

ALICE_PHONE = phone_hash("+447700900001")
ALICE_WORK = phone_hash("+447700900002")
BOB_PHONE = phone_hash("+447700900003")


@pytest.fixture
def bank(server, register_app):
    client = Tpp(server, register_app("bank", name="Sandbox Bank app", bank_id="sandbox"))
    yield client
    client.http.close()


@pytest.fixture
def preloaded(bank):
    answer = bank.http.put("/customers", json={"customers": [
        {"client_id": "alice", "phones": [{"hash": ALICE_PHONE, "primary": True}, {"hash": ALICE_WORK, "primary": False}]},
        {"client_id": "bob", "phones": [{"hash": BOB_PHONE, "primary": True}]},
        {"client_id": "carol", "phones": []},
    ]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 3, "updated": 0}
    return bank


def test_preload_then_update(preloaded):
    again = preloaded.http.put("/customers", json={"customers": [{"client_id": "carol", "phones": []},
                                                                 {"client_id": "dave", "phones": []}]})
    assert again.json() == {"created": 1, "updated": 1}


def test_client_tokens_by_phone_and_by_client_id(preloaded):
    by_phone = preloaded.http.post("/client-tokens/phone-hash", json=[
        {"ttl_minutes": 60, "phones": [{"hash": ALICE_PHONE, "primary": True}, {"hash": ALICE_WORK, "primary": False}],
         "strong_auth": False},
        {"ttl_minutes": 10, "phones": [{"hash": BOB_PHONE, "primary": True}], "strong_auth": True},
    ])
    assert by_phone.status_code == 200, by_phone.text
    alice, bob = by_phone.json()
    assert alice["token_type"] == "client" and alice["activation"] == "preloaded"
    assert alice["customer_id"].startswith("cus_") and alice["customer_id"] != bob["customer_id"]
    assert alice["expires_at"] == "2026-11-21T09:00:00Z"
    by_id = preloaded.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "alice"}]).json()
    assert by_id[0]["customer_id"] == alice["customer_id"]
    assert len({alice["client_token"], bob["client_token"], by_id[0]["client_token"]}) == 3


def test_the_customer_id_is_the_one_a_bank_login_gives(preloaded, tpp):
    """A customer preloaded as `alice` by the Sandbox Bank's app is the alice who logs in there."""
    issued = preloaded.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "alice"}]).json()[0]
    from tests.support.customer import Customer, query

    stored = tpp.store_request(bank_id="sandbox")
    location = Customer(tpp.server.url).run(f"{tpp.server.url}/app/request-token/{stored['id']}").headers["location"]
    token = tpp.http.get(f"/tokens/{query(location)['token-id']}").json()["token"]
    assert token["customer_id"] == issued["customer_id"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        ("/client-tokens/client-id", [{"ttl_minutes": 5, "client_id": "alice"}, {"ttl_minutes": True, "client_id": "bob"}],
         400, "invalid_type", "[1].ttl_minutes"),
        ("/client-tokens/client-id", [{"ttl_minutes": "60", "client_id": "bob"}], 400, "invalid_type", "[0].ttl_minutes"),
        ("/client-tokens/client-id", [{"ttl_minutes": 518401, "client_id": "bob"}], 400, "out_of_range", "[0].ttl_minutes"),
        ("/client-tokens/client-id", [{"ttl_minutes": 0, "client_id": "bob"}], 400, "out_of_range", "[0].ttl_minutes"),
        ("/client-tokens/client-id", [{"ttl_minutes": 11, "client_id": "bob", "strong_auth": True}], 400,
         "strong_auth_ttl_too_long", "[0].strong_auth"),
        ("/client-tokens/client-id", [{"ttl_minutes": 5, "client_id": "zed"}], 404, "customer_not_found", "[0]"),
        ("/client-tokens/client-id", [{"ttl_minutes": 5, "clientid": "bob"}], 400, "unknown_field", "[0].clientid"),
        ("/client-tokens/client-id", {"ttl_minutes": 5, "client_id": "bob"}, 400, "invalid_type", None),
        ("/client-tokens/phone-hash", [{"ttl_minutes": 5, "phones": [{"hash": "ABC", "primary": True}]}], 400,
         "invalid_phone_hash", "[0].phones[0].hash"),
        ("/client-tokens/phone-hash", [{"ttl_minutes": 5, "phones": []}], 400, "invalid_length", "[0].phones"),
        ("/client-tokens/phone-hash", [{"ttl_minutes": 5, "phones": [{"hash": ALICE_PHONE, "primary": True},
                                                                      {"hash": ALICE_WORK, "primary": True}]}],
         400, "multiple_primary_phones", "[0].phones"),
        ("/client-tokens/phone-hash", [{"ttl_minutes": 5, "phones": [{"hash": ALICE_PHONE, "primary": True},
                                                                      {"hash": BOB_PHONE, "primary": False}]}],
         409, "ambiguous_customer", "[0].phones"),
        ("/customers", {"customers": [{"client_id": "eve", "phones": [{"hash": BOB_PHONE, "primary": True}]}]},
         409, "phone_hash_in_use", "customers[0].phones[0].hash"),
        ("/customers", {"customers": [{"client_id": "x", "phones": []}, {"client_id": "x", "phones": []}]},
         400, "duplicate_client_id", "customers[1].client_id"),
    ],
)
def test_every_rule_names_its_element_and_the_batch_is_all_or_nothing(preloaded, path, body, status, code, field):
    before = preloaded.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "carol"}])
    method = preloaded.http.put if path == "/customers" else preloaded.http.post
    answer = method(path, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert (error["code"], error.get("field")) == (code, field)
    from sqlalchemy import func, select

    from webview_bridge.store.schema import client_tokens, customers

    with preloaded.server.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(client_tokens)).scalar_one() == len(before.json())
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 3


def test_another_banks_customer_is_not_found_and_not_hinted(preloaded, server, register_app):
    other = Tpp(server, register_app("bank", name="Other bank app", bank_id="emeraude"))
    answer = other.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "alice"}])
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "customer_not_found")
    by_phone = other.http.post("/client-tokens/phone-hash", json=[{"ttl_minutes": 5, "phones": [{"hash": ALICE_PHONE}]}])
    assert by_phone.status_code == 404


def test_roles(tpp, http):
    assert tpp.http.put("/customers", json={"customers": []}).status_code == 403
    assert http.post("/client-tokens/client-id", json=[]).status_code == 401


def test_a_client_token_is_refused_everywhere_but_activation_and_the_hand_off(preloaded, http):
    issued = preloaded.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "alice"}]).json()[0]
    as_bearer = {"Authorization": f"Bearer {issued['client_token']}"}
    for method, path in (("GET", "/me"), ("GET", "/tokens"), ("PUT", "/customers"), ("POST", "/token-requests")):
        assert http.request(method, path, headers=as_bearer, json={}).status_code == 401, path


def test_independent_activation(server, register_app, http, clock):
    bank = Tpp(server, register_app("bank", name="Indie bank app", bank_id="sandbox", independent_activation=True))
    unknown = phone_hash("+447700900999")
    issued = bank.http.post("/client-tokens/phone-hash", json=[{"ttl_minutes": 30, "phones": [{"hash": unknown, "primary": True}]}])
    assert issued.status_code == 200, issued.text
    (token,) = issued.json()
    assert (token["activation"], token["customer_id"]) == ("required", None)
    auth = {"Authorization": f"Bearer {token['client_token']}"}
    refused = http.post("/activations", headers=auth, json={"accept_terms": False})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "terms_not_accepted")
    assert http.post("/activations", headers=auth, json={"accept_terms": "yes"}).status_code == 400
    first = http.post("/activations", headers=auth, json={"accept_terms": True})
    assert first.status_code == 201
    assert first.json()["activation"] == "independent" and first.json()["customer_id"].startswith("cus_")
    again = http.post("/activations", headers=auth, json={"accept_terms": True})
    assert again.status_code == 200 and again.json() == first.json()
    # the customer now exists: the next token for that phone names them
    known = bank.http.post("/client-tokens/phone-hash", json=[{"ttl_minutes": 5, "phones": [{"hash": unknown}]}]).json()[0]
    assert (known["customer_id"], known["activation"]) == (first.json()["customer_id"], "preloaded")
    assert http.post("/activations", headers={"Authorization": "Bearer nonsense"}, json={"accept_terms": True}).status_code == 401
    clock.advance(minutes=31)
    assert http.post("/activations", headers=auth, json={"accept_terms": True}).status_code == 401


def test_two_bank_apps_of_one_bank_each_keep_their_own_customers(preloaded, server, register_app, http):
    """Customers belong to the bank app that preloaded them (PROTOCOL §3), even when another app
    speaks for the same bank and knows the same client ids."""
    second = Tpp(server, register_app("bank", name="Sandbox Bank business app", bank_id="sandbox",
                                      independent_activation=True))
    same = {"customers": [{"client_id": "alice", "phones": [{"hash": ALICE_PHONE, "primary": True}]},
                          {"client_id": "bob", "phones": []}]}
    first_put = second.http.put("/customers", json=same)
    assert (first_put.status_code, first_put.json()) == (200, {"created": 2, "updated": 0}), first_put.text
    assert second.http.put("/customers", json=same).json() == {"created": 0, "updated": 2}

    def customer(bank, client_id):
        answer = bank.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": client_id}])
        assert answer.status_code == 200, answer.text
        return answer.json()[0]["customer_id"]

    theirs, mine = customer(second, "alice"), customer(preloaded, "alice")
    assert theirs.startswith("cus_") and theirs != mine
    by_phone = second.http.post("/client-tokens/phone-hash", json=[{"ttl_minutes": 5, "phones": [{"hash": ALICE_PHONE}]}])
    assert by_phone.json()[0]["customer_id"] == theirs
    assert customer(preloaded, "alice") == mine  # the first app's customer is untouched
    # Independent activation of a client id the other app preloaded makes this app's own customer.
    issued = second.http.post("/client-tokens/client-id", json=[{"ttl_minutes": 5, "client_id": "carol"}]).json()[0]
    activated = http.post("/activations", headers={"Authorization": f"Bearer {issued['client_token']}"},
                          json={"accept_terms": True})
    assert activated.status_code == 201, activated.text
    assert activated.json()["customer_id"] not in (customer(preloaded, "carol"), theirs)
    assert customer(second, "carol") == activated.json()["customer_id"]


def test_concurrent_preloads_of_one_client_id_by_two_apps_of_one_bank(server, register_app):
    from concurrent.futures import ThreadPoolExecutor

    banks = [Tpp(server, register_app("bank", name=f"Bank app {i}", bank_id="sandbox")) for i in range(2)]
    body = {"customers": [{"client_id": f"c-{n}", "phones": []} for n in range(20)]}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: banks[i % 2].http.put("/customers", json=body), range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers if a.status_code != 200]
    for bank in banks:
        assert bank.http.put("/customers", json=body).json() == {"created": 0, "updated": 20}
