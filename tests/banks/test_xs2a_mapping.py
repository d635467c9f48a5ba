"""Berlin Group data in the protocol's terms (PROTOCOL §7, §11): each mapping rule, alone."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from webview_bridge.banks.model import Money
from webview_bridge.banks.xs2a import mapping

NOW = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)


def test_access_asks_for_what_each_resource_needs_and_lets_the_customer_choose_accounts():
    assert mapping.consent_access(["ACCOUNTS"]) == {"accounts": [], "additionalInformation": {"ownerName": []}}
    assert mapping.consent_access(["BALANCES"]) == {"accounts": [], "balances": []}
    assert mapping.consent_access(["TRANSACTIONS"]) == {"accounts": [], "transactions": []}
    assert mapping.consent_access(["STANDING_ORDERS"]) == {"accounts": [], "transactions": []}
    assert mapping.consent_access(["TRANSFER_DESTINATIONS"]) == {
        "accounts": [], "additionalInformation": {"trustedBeneficiaries": []}}
    assert mapping.consent_access(["FUNDS_CONFIRMATIONS"]) == {"accounts": []}


def test_balances_prefer_closing_booked_then_interim_and_available_prefers_interim_available():
    def balances(*types):
        return {"balances": [{"balanceType": t, "balanceAmount": {"currency": "EUR", "amount": str(i + 1)},
                              "referenceDate": "2026-12-01"} for i, t in enumerate(types)]}

    full = mapping.balance(balances("expected", "interimBooked", "closingBooked", "interimAvailable"), "acc", NOW)
    assert full.current == Money("EUR", Decimal("3")) and full.available == Money("EUR", Decimal("4"))
    interim = mapping.balance(balances("expected", "interimBooked"), "acc", NOW)
    assert interim.current.value == Decimal("2") and interim.available.value == Decimal("1")
    only_expected = mapping.balance(balances("expected"), "acc", NOW)
    assert only_expected.current.value == only_expected.available.value == Decimal("1")
    assert full.updated_at == datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_a_transaction_is_its_absolute_amount_debit_when_negative_booked_at_midnight():
    debit = mapping.transaction({"transactionId": "T-1/x", "bookingDate": "2026-11-30",
                                 "transactionAmount": {"currency": "EUR", "amount": "-12.30"},
                                 "creditorName": "Corner Grocer"}, "BOOKED", NOW.date())
    assert debit.type == "DEBIT" and debit.amount == Money("EUR", Decimal("12.30"))
    assert debit.booked_at == datetime(2026, 11, 30, tzinfo=timezone.utc) and debit.description == "Corner Grocer"
    assert mapping.bank_transaction_id(debit.id) == "T-1/x" and debit.id.startswith("tx_") and "/" not in debit.id
    credit = mapping.transaction({"transactionId": "T-2", "valueDate": "2026-12-02",
                                  "transactionAmount": {"currency": "EUR", "amount": "100"},
                                  "remittanceInformationUnstructured": "Salary"}, "PENDING", NOW.date())
    assert credit.type == "CREDIT" and credit.status == "PENDING" and credit.description == "Salary"


def test_pages_that_overlap_give_each_transaction_once_newest_first():
    page = {"booked": [{"transactionId": str(i), "bookingDate": f"2026-11-{10 + i}",
                        "transactionAmount": {"currency": "EUR", "amount": "-1"}} for i in range(3)]}
    found = mapping.newest_first(mapping.transaction_page(page, NOW.date()) * 2)
    assert [mapping.bank_transaction_id(t.id) for t in found] == ["2", "1", "0"]


def test_accounts_map_iban_bban_and_uk_sort_codes_only_where_the_bank_has_the_details_api():
    raw = {"resourceId": "r1", "iban": "GB33SNDB40516612345678", "currency": "GBP", "name": "Everyday",
           "cashAccountType": "CACC", "status": "enabled", "ownerName": "Alice Andersson"}
    account = mapping.account(raw, our_id="acc_1", bank_id="sandbox", bank_bic="SNDBGB2L", card=False, with_details=True)
    assert account.type == "CHECKING" and account.name == "Everyday" and account.currency == "GBP"
    assert account.details.account_identifiers == [
        {"gb_domestic": {"sort_code": "405166", "account_number": "12345678"}},
        {"iban": {"iban": "GB33SNDB40516612345678"}}]
    assert account.details.account_holder_name == "Alice Andersson" and account.details.bic == "SNDBGB2L"
    without = mapping.account(raw, our_id="acc_1", bank_id="b", bank_bic="X", card=False, with_details=False)
    assert without.details is None
    card = mapping.account({"resourceId": "c1", "maskedPan": "123456xxxxxx1234", "currency": "EUR", "name": "Card"},
                           our_id="acc_2", bank_id="b", bank_bic="X", card=True, with_details=True)
    assert card.type == "CARD" and card.details.identifier == "123456xxxxxx1234"
    savings = mapping.account({"resourceId": "s", "bban": "123", "currency": "EUR", "cashAccountType": "SVGS"},
                              our_id="acc_3", bank_id="b", bank_bic="X", card=False, with_details=True)
    assert savings.type == "SAVINGS" and savings.details.account_identifiers == [{"bban": {"bban": "123"}}]


def test_a_consent_covers_the_accounts_its_access_names():
    access = {"accounts": [{"iban": "DE1", "currency": "EUR"}], "balances": [{"maskedPan": "1234xx"}],
              "transactions": [{"iban": "DE1"}]}
    assert mapping.covered_references(access) == {"iban:DE1", "maskedPan:1234xx"}


def test_standing_orders_come_from_information_entries():
    raw = {"transactionId": "so-1", "transactionAmount": {"currency": "EUR", "amount": "-950.00"},
           "creditorName": "Landlord", "creditorAccount": {"iban": "DE89370400440532013000"},
           "remittanceInformationUnstructured": "RENT",
           "additionalInformationStructured": {"standingOrderDetails": {
               "startDate": "2026-01-03", "frequency": "Monthly", "dayOfExecution": "3"}}}
    order = mapping.standing_order(raw, NOW.date())
    assert order.amount == Money("EUR", Decimal("950.00")) and order.frequency == "MONTHLY"
    assert order.next_payment_date == date(2026, 12, 3) and order.reference == "RENT"
    assert order.creditor_identifier == {"iban": {"iban": "DE89370400440532013000"}}
    assert mapping.standing_order({"transactionAmount": {"currency": "EUR", "amount": "1"}}, NOW.date()) is None


def test_trusted_beneficiaries_become_transfer_destinations():
    found = mapping.transfer_destinations({"trustedBeneficiaries": [
        {"trustedBeneficiaryId": "x", "creditorName": "Bob", "creditorAccount": {"iban": "GB33SNDB40516612345678"},
         "creditorAgent": "SNDBGB2L"}]})
    assert [d.type for d in found] == ["FASTER_PAYMENTS", "SEPA"]
    assert found[0].identifiers == {"sort_code": "405166", "account_number": "12345678"} and found[0].name == "Bob"
    assert found[1].identifiers == {"iban": "GB33SNDB40516612345678", "bic": "SNDBGB2L"}


def test_our_account_ids_are_stable_and_keyed():
    first = mapping.our_account_id(lambda v: "hash-of-" + v, "sandbox", "r1")
    assert first == mapping.our_account_id(lambda v: "hash-of-" + v, "sandbox", "r1") and first.startswith("acc_")
    assert first != mapping.our_account_id(lambda v: "other-key-" + v, "sandbox", "r1")
