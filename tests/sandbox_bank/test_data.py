"""The bank's deterministic data: the same question always gets the same, plausible answer."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

from webview_bridge.sandbox_bank import data
from tests.sandbox_bank.conftest import get_bank

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=timezone.utc)
SANDBOX = data.BankFacts.of(get_bank("sandbox"))


def valid_iban(value: str) -> bool:
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def test_the_named_logins():
    alice = data.accounts_of(SANDBOX, "alice")
    assert [(a.name, a.kind, a.currency) for a in alice] == [
        ("Everyday Account", "CHECKING", "GBP"), ("Euro Savings", "SAVINGS", "EUR"), ("Rewards Card", "CARD", "GBP")]
    assert data.accounts_of(SANDBOX, "bob") == ()
    assert [a.name for a in data.accounts_of(SANDBOX, "carol")] == ["Current Account", "Rainy Day Savings"]
    assert data.holder_name("alice") == "Alice Andersson" and data.holder_name("jean-luc") == "Jean Luc"


def test_numbers_are_well_formed_and_stable():
    everyday, savings, card = data.accounts_of(SANDBOX, "alice")
    assert everyday.iban and everyday.iban.startswith("GBxx"[:2]) and everyday.iban[4:8] == "SNDB"
    assert valid_iban(everyday.iban) and valid_iban(savings.iban or "")
    assert re.fullmatch(r"4\d{5}x{6}\d{4}", card.masked_pan or "") and card.iban is None
    assert card.reference() == {"maskedPan": card.masked_pan, "currency": "GBP"}
    data.accounts_of.cache_clear()
    assert data.accounts_of(SANDBOX, "alice") == (everyday, savings, card)
    elsewhere = data.accounts_of(data.BankFacts.of(get_bank("alpenbank")), "alice")
    assert elsewhere[1].iban and elsewhere[1].iban.startswith("DE") and elsewhere[1].resource_id != savings.resource_id


def test_login_names():
    assert data.normalise_login("  Carol ") == "carol"
    assert data.is_login("alice") and data.is_login("jean-luc.p@example")
    assert not data.is_login("") and not data.is_login("zoë") and not data.is_login("-x") and not data.is_login("a" * 65)


def test_other_logins_get_a_generated_profile():
    first = data.accounts_of(SANDBOX, "zoe")
    assert 1 <= len(first) <= 3 and first == data.accounts_of(SANDBOX, "zoe")


def test_history_is_newest_first_bounded_and_pending_only_today():
    everyday = data.accounts_of(SANDBOX, "alice")[0]
    pending, booked = data.history(everyday, NOW, None, None)
    assert all(e.day == NOW.date() and e.at <= NOW for e in pending)
    assert all(e.day < NOW.date() for e in booked)
    assert booked == sorted(booked, key=lambda e: (e.at, e.transaction_id), reverse=True)
    assert booked[-1].day >= NOW.date() - timedelta(days=data.HISTORY_DAYS)
    assert len({e.transaction_id for e in booked}) == len(booked) > 400
    window = data.history(everyday, NOW, date(2026, 10, 1), date(2026, 10, 31))[1]
    assert window == [e for e in booked if date(2026, 10, 1) <= e.day <= date(2026, 10, 31)]
    salary = [e for e in booked if e.description == "Salary"]
    assert salary and all(e.day.day == 28 and e.amount > 0 for e in salary)


def test_a_transaction_is_found_by_its_id_on_its_own_account_only():
    everyday, savings, _ = data.accounts_of(SANDBOX, "alice")
    entry = data.history(everyday, NOW, None, None)[1][3]
    assert data.find_entry(everyday, entry.transaction_id, NOW) == (entry, True)
    assert data.find_entry(savings, entry.transaction_id, NOW) is None
    assert data.find_entry(everyday, "not-an-id", NOW) is None
    assert data.find_entry(everyday, entry.transaction_id, entry.at - timedelta(seconds=1)) is None  # not yet happened


def test_balances_hang_together():
    everyday, savings, card = data.accounts_of(SANDBOX, "alice")
    today = data.entries_on(everyday, NOW.date())
    found = data.balances(everyday, NOW)
    assert found.expected == found.closing_booked + sum(e.amount for e in today if e.at <= NOW)
    assert found.interim_available == found.expected + data.OVERDRAFT
    assert data.balances(card, NOW).closing_booked < 0
    assert data.balances(card, NOW).interim_available == data.balances(card, NOW).expected + card.credit_limit
    assert data.balances(savings, NOW).credit_line == 0


def test_standing_orders_and_trusted_beneficiaries():
    everyday, savings, card = data.accounts_of(SANDBOX, "alice")
    orders = data.standing_orders(everyday)
    assert [o.creditor_name for o in orders] == ["Landlord Lettings Ltd", "Savings top-up"]
    assert all(1 <= o.day_of_execution <= 28 and valid_iban(o.creditor_iban) for o in orders)
    assert data.standing_orders(savings) == [] == data.standing_orders(card)
    payees = data.trusted_beneficiaries(everyday)
    assert 2 <= len(payees) <= 4 and payees == data.trusted_beneficiaries(everyday)
    assert all(uuid.UUID(p.beneficiary_id).version == 4 and valid_iban(p.creditor_iban) for p in payees)
    assert all(re.fullmatch(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]", p.creditor_bic) for p in payees)
    assert data.trusted_beneficiaries(card) == []
