"""Several instances on one database are one bank: a consent created through one is authorised
through the other's pages and read through either."""

from __future__ import annotations

from tests.sandbox_bank.conftest import PSU_IP, REDIRECT


def test_a_consent_created_on_one_instance_is_authorised_through_another(sandbox_factory):
    first, second = sandbox_factory(), sandbox_factory()
    tpp_first, tpp_second, customer = first.tpp(), second.tpp(), second.customer()
    created = tpp_first.create_consent()
    consent_id = created.json()["consentId"]
    # The bank's link names the first instance; the customer's browser lands on the second one.
    href = created.json()["_links"]["scaRedirect"]["href"].replace(first.origin, second.origin)
    back = customer.authorise(href, "carol", code="123456")
    assert back.status_code == 302 and back.headers["location"] == REDIRECT
    assert tpp_first.status(consent_id) == "valid"
    for tpp in (tpp_first, tpp_second):
        listed = tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP).json()["accounts"]
        assert [a["name"] for a in listed] == ["Current Account", "Rainy Day Savings"]
    # frequencyPerDay is counted once for the whole bank, whichever instance answers.
    balances = f"/v1/accounts/{listed[0]['resourceId']}/balances"
    for tpp in (tpp_first, tpp_second, tpp_first, tpp_second):
        assert tpp.get(balances, consent_id).status_code == 200
    assert tpp_second.get(balances, consent_id).status_code == 429
    for client in (tpp_first, tpp_second, customer):
        client.close()
