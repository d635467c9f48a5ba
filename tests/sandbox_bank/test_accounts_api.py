"""Account information under a consent: accounts, card accounts, balances, transactions (and
their paging), standing orders, transaction details, trusted beneficiaries, funds confirmation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from webview_bridge.sandbox_bank import data
from tests.sandbox_bank.conftest import PSU_IP, get_bank, granted_consent
from tests.sandbox_bank.test_consents_api import code_of


@pytest.fixture
def consent_id(tpp, customer) -> str:
    return granted_consent(tpp, customer)


def alice_account(name: str, bank_id: str = "sandbox") -> data.BankAccount:
    return next(a for a in data.accounts_of(data.BankFacts.of(get_bank(bank_id)), "alice") if a.name == name)


def test_the_account_list_has_the_consented_payment_accounts_only(sandbox, tpp, consent_id):
    listed = tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP).json()["accounts"]
    assert [a["name"] for a in listed] == ["Everyday Account", "Euro Savings"]  # the card is a card account
    everyday = listed[0]
    assert everyday["iban"].startswith("GB") and everyday["currency"] == "GBP" and everyday["cashAccountType"] == "CACC"
    assert everyday["bic"] == "SNDBGB2L" and "ownerName" not in everyday  # the consent did not ask for it
    assert everyday["_links"]["balances"]["href"] == f"{sandbox.url}/sandbox/v1/accounts/{everyday['resourceId']}/balances"
    assert "balances" not in everyday
    with_balances = tpp.get("/v1/accounts", consent_id, psu_ip=PSU_IP, withBalance="true").json()["accounts"]
    assert {b["balanceType"] for b in with_balances[0]["balances"]} == {"closingBooked", "expected", "interimAvailable"}
    details = tpp.get(f"/v1/accounts/{everyday['resourceId']}", consent_id, psu_ip=PSU_IP).json()["account"]
    assert details == everyday


def test_card_accounts_are_served_as_card_accounts(sandbox, tpp, consent_id):
    cards = tpp.get("/v1/card-accounts", consent_id, psu_ip=PSU_IP).json()["cardAccounts"]
    assert [c["name"] for c in cards] == ["Rewards Card"]
    card = cards[0]
    assert card["maskedPan"][6:12] == "xxxxxx" and card["creditLimit"]["currency"] == "GBP"
    card_id = card["resourceId"]
    assert tpp.get(f"/v1/card-accounts/{card_id}", consent_id).json()["cardAccount"] == card
    balances = tpp.get(f"/v1/card-accounts/{card_id}/balances", consent_id, psu_ip=PSU_IP).json()
    assert balances["cardAccount"] == {"maskedPan": card["maskedPan"], "currency": "GBP"}
    closing = Decimal(balances["balances"][0]["balanceAmount"]["amount"])
    assert closing < 0  # what is owed on the card
    report = tpp.get(f"/v1/card-accounts/{card_id}/transactions", consent_id, psu_ip=PSU_IP, bookingStatus="both",
                     dateFrom=(sandbox.clock.now().date() - timedelta(days=30)).isoformat()).json()
    booked = report["cardTransactions"]["booked"]
    assert booked and all(t["maskedPAN"] == card["maskedPan"] and t["bookingDate"] for t in booked)
    assert report["cardTransactions"]["_links"]["cardAccount"]["href"].endswith(f"/v1/card-accounts/{card_id}")
    everyday = tpp.get("/v1/accounts", consent_id).json()["accounts"][0]["resourceId"]
    for wrong in (f"/v1/accounts/{card_id}", f"/v1/card-accounts/{everyday}", f"/v1/accounts/{card_id}/balances"):
        response = tpp.get(wrong, consent_id, psu_ip=PSU_IP)
        assert (response.status_code, code_of(response)) == (404, "RESOURCE_UNKNOWN")


def test_balances(sandbox, tpp, consent_id):
    now = sandbox.clock.now()
    accounts = {a["name"]: a["resourceId"] for a in tpp.get("/v1/accounts", consent_id).json()["accounts"]}
    answer = tpp.get(f"/v1/accounts/{accounts['Everyday Account']}/balances", consent_id, psu_ip=PSU_IP).json()
    assert answer["account"] == {"iban": alice_account("Everyday Account").iban, "currency": "GBP"}
    found = {b["balanceType"]: b for b in answer["balances"]}
    assert found["closingBooked"]["referenceDate"] == (now.date() - timedelta(days=1)).isoformat()
    amount = {kind: Decimal(b["balanceAmount"]["amount"]) for kind, b in found.items()}
    assert amount["interimAvailable"] == amount["expected"] + Decimal("500.00")  # the overdraft
    assert found["interimAvailable"]["creditLimitIncluded"] is True
    savings = tpp.get(f"/v1/accounts/{accounts['Euro Savings']}/balances", consent_id, psu_ip=PSU_IP).json()["balances"]
    assert [b["balanceType"] for b in savings] == ["closingBooked", "interimAvailable"]


def transactions(tpp, consent_id, account_id, **params):
    response = tpp.get(f"/v1/accounts/{account_id}/transactions", consent_id, psu_ip=PSU_IP, **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_booked_pending_and_both(sandbox, tpp, consent_id):
    sandbox.clock.advance(hours=14)  # late in the day: today's transactions are pending
    today = sandbox.clock.now().date()
    everyday = alice_account("Everyday Account")
    account_id = everyday.resource_id
    week = (today - timedelta(days=7)).isoformat()
    booked = transactions(tpp, consent_id, account_id, bookingStatus="booked", dateFrom=week)["transactions"]
    assert set(booked) == {"booked", "_links"} and booked["booked"]
    assert all(week <= t["bookingDate"] < today.isoformat() for t in booked["booked"])
    pending = transactions(tpp, consent_id, account_id, bookingStatus="pending", dateFrom=week)["transactions"]
    expected_pending = data.history(everyday, sandbox.clock.now(), None, None)[0]
    assert [t["transactionId"] for t in pending["pending"]] == [e.transaction_id for e in expected_pending]
    assert all("bookingDate" not in t and t["valueDate"] == today.isoformat() for t in pending["pending"])
    both = transactions(tpp, consent_id, account_id, bookingStatus="both", dateFrom=week)["transactions"]
    assert both["pending"] == pending["pending"] and both["booked"] == booked["booked"]
    debit = next(t for t in both["booked"] if t["transactionAmount"]["amount"].startswith("-"))
    assert debit["creditorName"] and debit["remittanceInformationUnstructured"]


def test_paging_follows_next_to_the_last_page_with_every_entry_once(sandbox, tpp, consent_id):
    everyday = alice_account("Everyday Account")
    now = sandbox.clock.now()
    date_from = (now.date() - timedelta(days=data.HISTORY_DAYS)).isoformat()
    pending, booked = data.history(everyday, now, None, None)
    expected = [e.transaction_id for e in pending + booked]
    assert len(expected) > 3 * sandbox.config.page_size  # several pages
    seen: list[str] = []
    report = transactions(tpp, consent_id, everyday.resource_id, bookingStatus="both", dateFrom=date_from)
    pages = 1
    while True:
        part = report["transactions"]
        on_page = [t["transactionId"] for t in part["pending"] + part["booked"]]
        assert 0 < len(on_page) <= sandbox.config.page_size
        seen += on_page
        if "next" not in part["_links"]:
            break
        sandbox.clock.advance(hours=1)  # pages read later continue the same report, though the day goes on
        report = tpp.get(part["_links"]["next"]["href"], consent_id).json()
        pages += 1
    assert seen == expected  # nothing twice, nothing missing, newest first
    assert pages == -(-len(expected) // sandbox.config.page_size)
    assert f"pageIndex={pages - 1}" in part["_links"]["last"]["href"] and "previous" in part["_links"]
    assert "pageIndex=0" in part["_links"]["first"]["href"]
    # Meanwhile a transaction happened (14:12 that day): only pinning the report kept the pages apart.
    assert len(sum(data.history(everyday, sandbox.clock.now(), None, None), [])) > len(expected)


def test_items_per_page_is_honoured_up_to_the_banks_page_size(sandbox, tpp, consent_id):
    account_id = alice_account("Everyday Account").resource_id
    date_from = (sandbox.clock.now().date() - timedelta(days=60)).isoformat()
    small = transactions(tpp, consent_id, account_id, bookingStatus="booked", dateFrom=date_from, itemsPerPage="7")
    assert len(small["transactions"]["booked"]) == 7 and "itemsPerPage=7" in small["transactions"]["_links"]["next"]["href"]
    big = transactions(tpp, consent_id, account_id, bookingStatus="booked", dateFrom=date_from, itemsPerPage="500")
    assert len(big["transactions"]["booked"]) == sandbox.config.page_size


def test_a_date_range(sandbox, tpp, consent_id):
    everyday = alice_account("Everyday Account")
    date_from, date_to = date(2026, 10, 1), date(2026, 10, 14)
    got = transactions(tpp, consent_id, everyday.resource_id, bookingStatus="booked", dateFrom=date_from.isoformat(),
                       dateTo=date_to.isoformat())["transactions"]
    expected = data.history(everyday, sandbox.clock.now(), date_from, date_to)[1]
    assert [t["transactionId"] for t in got["booked"]] == [e.transaction_id for e in expected] != []
    assert {t["bookingDate"] for t in got["booked"]} <= {(date_from + timedelta(days=d)).isoformat() for d in range(14)}
    assert "next" not in got["_links"]


def test_a_bank_without_date_filtering_answers_its_whole_history(sandbox):
    tpp, customer = sandbox.tpp("muehlental"), sandbox.customer()
    consent_id = granted_consent(tpp, customer)
    account_id = tpp.get("/v1/accounts", consent_id).json()["accounts"][0]["resourceId"]
    report = transactions(tpp, consent_id, account_id, bookingStatus="booked", dateFrom="2026-11-01", dateTo="2026-11-02")
    booked = report["transactions"]["booked"]
    assert len(booked) == sandbox.config.page_size and "next" in report["transactions"]["_links"]
    assert any(t["bookingDate"] > "2026-11-02" for t in booked) and any(t["bookingDate"] < "2026-11-01" for t in booked)


def test_entry_reference_from_gives_what_came_after(sandbox, tpp, consent_id):
    everyday = alice_account("Everyday Account")
    booked = data.history(everyday, sandbox.clock.now(), None, None)[1]
    mark = booked[5]
    after = transactions(tpp, consent_id, everyday.resource_id, bookingStatus="booked",
                         entryReferenceFrom=mark.transaction_id)["transactions"]["booked"]
    assert [t["transactionId"] for t in after] == [e.transaction_id for e in booked[:5]]


def test_standing_orders_are_the_information_booking_status(sandbox, tpp, consent_id):
    everyday, savings = alice_account("Everyday Account"), alice_account("Euro Savings")
    orders = transactions(tpp, consent_id, everyday.resource_id, bookingStatus="information")["transactions"]
    assert set(orders) == {"information", "_links"} and len(orders["information"]) == 2
    rent = orders["information"][0]
    details = rent["additionalInformationStructured"]["standingOrderDetails"]
    assert rent["creditorName"] == "Landlord Lettings Ltd" and rent["transactionAmount"] == {"currency": "GBP", "amount": "-950.00"}
    assert details["frequency"] == "Monthly" and 1 <= int(details["dayOfExecution"]) <= 28
    assert transactions(tpp, consent_id, savings.resource_id, bookingStatus="information")["transactions"]["information"] == []
    everything = transactions(tpp, consent_id, everyday.resource_id, bookingStatus="all",
                              dateFrom=sandbox.clock.now().date().isoformat())["transactions"]
    assert set(everything) == {"booked", "pending", "information", "_links"}


def test_a_bank_without_standing_orders_refuses_information(sandbox):
    tpp, customer = sandbox.tpp("harbourside"), sandbox.customer()
    consent_id = granted_consent(tpp, customer)
    account_id = tpp.get("/v1/accounts", consent_id).json()["accounts"][0]["resourceId"]
    refused = tpp.get(f"/v1/accounts/{account_id}/transactions", consent_id, psu_ip=PSU_IP, bookingStatus="information")
    assert (refused.status_code, code_of(refused)) == (400, "PARAMETER_NOT_SUPPORTED")


def test_transaction_list_refusals(sandbox, tpp, consent_id):
    account_id = alice_account("Everyday Account").resource_id
    path = f"/v1/accounts/{account_id}/transactions"
    cases = [
        (tpp.get(path, consent_id, bookingStatus="booked"), 400, "FORMAT_ERROR"),  # no dateFrom
        (tpp.get(path, consent_id, bookingStatus="booked", dateFrom="2026-11-10", dateTo="2026-11-01"), 400, "PERIOD_INVALID"),
        (tpp.get(path, consent_id, bookingStatus="booked", deltaList="true"), 400, "PARAMETER_NOT_SUPPORTED"),
        (tpp.get(path, consent_id, bookingStatus="booked", entryReferenceFrom="20261101x"), 400, "RESOURCE_UNKNOWN"),
        (tpp.get(path, consent_id, bookingStatus="booked", dateFrom="2026-11-01", pageIndex="99"), 400, "FORMAT_ERROR"),
    ]
    for response, status, code in cases:
        assert (response.status_code, code_of(response)) == (status, code), response.text


def test_transaction_details(sandbox, tpp, consent_id):
    account_id = alice_account("Everyday Account").resource_id
    listed = transactions(tpp, consent_id, account_id, bookingStatus="booked",
                          dateFrom=(sandbox.clock.now().date() - timedelta(days=10)).isoformat())["transactions"]["booked"][0]
    details = tpp.get(listed["_links"]["transactionDetails"]["href"], consent_id, psu_ip=PSU_IP)
    assert details.json() == {"transactionsDetails": listed}
    unknown = tpp.get(f"/v1/accounts/{account_id}/transactions/20260101{'0' * 17}", consent_id, psu_ip=PSU_IP)
    assert (unknown.status_code, code_of(unknown)) == (404, "RESOURCE_UNKNOWN")
    savings_id = alice_account("Euro Savings").resource_id  # another account's transaction is not found there
    elsewhere = tpp.get(f"/v1/accounts/{savings_id}/transactions/{listed['transactionId']}", consent_id, psu_ip=PSU_IP)
    assert elsewhere.status_code == 404


def test_what_the_consent_does_not_cover(sandbox, tpp, customer):
    only_accounts = granted_consent(tpp, customer, access={"accounts": []}, untick=("Euro Savings",))
    everyday, savings = alice_account("Everyday Account").resource_id, alice_account("Euro Savings").resource_id
    for path in (f"/v1/accounts/{everyday}/balances", f"/v1/accounts/{everyday}/transactions?bookingStatus=information"):
        response = tpp.get(path, only_accounts, psu_ip=PSU_IP)
        assert (response.status_code, code_of(response)) == (401, "CONSENT_INVALID"), path
    unticked = tpp.get(f"/v1/accounts/{savings}", only_accounts, psu_ip=PSU_IP)
    assert (unticked.status_code, code_of(unticked)) == (404, "RESOURCE_UNKNOWN")
    assert "_links" not in tpp.get("/v1/accounts", only_accounts).json()["accounts"][0]
    beneficiaries = tpp.get("/v1/trusted-beneficiaries", only_accounts, **{"account-id": everyday})
    assert (beneficiaries.status_code, code_of(beneficiaries)) == (401, "CONSENT_INVALID")


def test_the_owner_name_when_the_consent_asks_for_it(sandbox, tpp, customer):
    consent_id = granted_consent(tpp, customer, access={"accounts": [], "additionalInformation": {"ownerName": []}})
    assert {a["ownerName"] for a in tpp.get("/v1/accounts", consent_id).json()["accounts"]} == {"Alice Andersson"}


def test_trusted_beneficiaries(sandbox, tpp, consent_id):
    everyday = alice_account("Everyday Account")
    listed = tpp.get("/v1/trusted-beneficiaries", consent_id, psu_ip=PSU_IP, **{"account-id": everyday.resource_id})
    found = listed.json()["trustedBeneficiaries"]
    assert 2 <= len(found) <= 4 and all(b["debtorAccount"]["iban"] == everyday.iban for b in found)
    assert tpp.get("/v1/trusted-beneficiaries", consent_id, **{"account-id": everyday.resource_id}).json() == listed.json()
    card = alice_account("Rewards Card")
    refused = tpp.get("/v1/trusted-beneficiaries", consent_id, **{"account-id": card.resource_id})
    assert (refused.status_code, code_of(refused)) == (404, "RESOURCE_UNKNOWN")


def test_funds_confirmation(sandbox, tpp, consent_id):
    everyday = alice_account("Everyday Account")
    available = data.balances(everyday, sandbox.clock.now()).interim_available

    def confirm(amount: Decimal, iban: str = everyday.iban or "", currency: str = "GBP", with_consent: bool = True):
        headers = {"Consent-ID": consent_id} if with_consent else {}
        return tpp.call("POST", "/v1/funds-confirmations", headers=headers, json={
            "account": {"iban": iban}, "instructedAmount": {"currency": currency, "amount": f"{amount:.2f}"}})

    assert confirm(available).json() == {"fundsAvailable": True}
    assert confirm(available + Decimal("0.01")).json() == {"fundsAvailable": False}
    assert confirm(Decimal(1), with_consent=False).json() == {"fundsAvailable": True}  # a customer known to the bank
    unknown = confirm(Decimal(1), iban="GB33BUKB20201555555555")
    assert (unknown.status_code, code_of(unknown)) == (400, "RESOURCE_UNKNOWN")
    assert code_of(confirm(Decimal(1), currency="EUR")) == "PARAMETER_NOT_SUPPORTED"
    other = sandbox.tpp("pennine")  # a bank without confirmation of funds
    refused = other.call("POST", "/v1/funds-confirmations", json={"account": {"iban": everyday.iban},
                                                                  "instructedAmount": {"currency": "GBP", "amount": "1"}})
    assert (refused.status_code, code_of(refused)) == (405, "SERVICE_INVALID")
    other.close()


def test_a_bank_without_the_account_details_api(sandbox):
    tpp, customer = sandbox.tpp("polderbank"), sandbox.customer()
    consent_id = granted_consent(tpp, customer)
    listed = tpp.get("/v1/accounts", consent_id).json()["accounts"]
    assert listed and set(listed[0]) == {"resourceId", "iban", "currency", "name", "_links"}
    refused = tpp.get(f"/v1/accounts/{listed[0]['resourceId']}", consent_id)
    assert (refused.status_code, code_of(refused)) == (405, "SERVICE_INVALID")
    assert tpp.get(listed[0]["_links"]["balances"]["href"], consent_id).status_code == 200
