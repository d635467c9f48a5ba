"""The sandbox bank's customers and data: deterministic, realistic, and as PROTOCOL §4 describes."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from webview_bridge.banks.connector import BankUnavailable, LoginFailed, SecondFactorRequired
from webview_bridge.banks.directory import all_banks, get_bank
from webview_bridge.banks.sandbox import SandboxConnector, iban

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
sandbox = SandboxConnector()
BANK = get_bank("sandbox")


def _iban_ok(value: str) -> bool:
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def test_logins():
    assert sandbox.check_login(BANK, "alice", "sandbox", None) == "alice"
    assert sandbox.check_login(BANK, " Alice ", "sandbox", None) == "alice"
    with pytest.raises(LoginFailed):
        sandbox.check_login(BANK, "alice", "wrong", None)
    with pytest.raises(SecondFactorRequired):
        sandbox.check_login(BANK, "carol", "sandbox", None)
    with pytest.raises(LoginFailed):
        sandbox.check_login(BANK, "carol", "sandbox", "000000")
    assert sandbox.check_login(BANK, "carol", "sandbox", "123456") == "carol"


def test_special_banks_refuse_to_work():
    for bank in all_banks():
        if bank.status == "maintenance" or bank.always_fails:
            with pytest.raises(BankUnavailable):
                sandbox.check_login(bank, "alice", "sandbox", None)


def test_alice_bob_and_carol():
    alice = sandbox.accounts(BANK, "alice")
    assert len(alice) == 3 and {a.currency for a in alice} == {"GBP", "EUR"}
    assert len({a.type for a in alice}) == 3
    assert sandbox.accounts(BANK, "bob") == []
    assert len(sandbox.accounts(BANK, "carol")) >= 1
    assert sandbox.accounts(BANK, "c-1001") == sandbox.accounts(BANK, "c-1001")  # generated, stable


def test_account_details_carry_real_looking_identifiers():
    everyday = sandbox.accounts(BANK, "alice")[0]
    details = everyday.details
    assert details.account_holder_name == "Alice Andersson" and details.bic == "SNDBGB2L"
    kinds = {next(iter(i)) for i in details.account_identifiers}
    assert {"gb_domestic", "iban"} <= kinds
    gb = next(i["gb_domestic"] for i in details.account_identifiers if "gb_domestic" in i)
    assert len(gb["sort_code"]) == 6 and len(gb["account_number"]) == 8
    euro = sandbox.accounts(get_bank("emeraude"), "alice")[1]
    ibans = [i["iban"]["iban"] for i in euro.details.account_identifiers if "iban" in i]
    assert ibans[0].startswith("FR") and _iban_ok(ibans[0])
    assert iban("DE", "370400440532013000") == "DE89370400440532013000"  # the textbook example


def test_a_bank_without_the_details_api_gives_no_details():
    assert all(a.details is None for a in sandbox.accounts(get_bank("polderbank"), "alice"))


def test_thirteen_months_of_deterministic_transactions():
    account = sandbox.accounts(BANK, "alice")[0]
    history = sandbox.transactions(BANK, "alice", account, NOW)
    assert history == sandbox.transactions(BANK, "alice", account, NOW)
    assert history[-1].booked_at <= NOW - timedelta(days=395)
    assert all(t.booked_at <= NOW for t in history)
    assert [t.booked_at for t in history] == sorted((t.booked_at for t in history), reverse=True)
    assert {t.type for t in history} == {"DEBIT", "CREDIT"}
    assert any(t.description == "Salary" for t in history)
    assert all(t.amount.value > 0 and t.amount.value == t.amount.value.quantize(Decimal("0.01")) for t in history)
    # the past does not change as time moves on
    later = sandbox.transactions(BANK, "alice", account, NOW + timedelta(days=3))
    old = {t.id for t in history if NOW - timedelta(days=390) < t.booked_at < NOW - timedelta(days=1)}
    assert old <= {t.id for t in later}


def test_balances_standing_orders_and_destinations():
    everyday, savings, card = sandbox.accounts(BANK, "alice")
    balance = sandbox.balance(BANK, "alice", everyday, NOW)
    assert balance.current.currency == "GBP" and balance.updated_at == NOW
    assert sandbox.balance(BANK, "alice", card, NOW).current.value < 0
    orders = sandbox.standing_orders(BANK, "alice", everyday, NOW)
    assert len(orders) == 2 and all(o.next_payment_date > NOW.date() for o in orders)
    assert sandbox.standing_orders(BANK, "alice", savings, NOW) == []
    assert {d.type for d in sandbox.transfer_destinations(BANK, "alice", everyday)} == {"FASTER_PAYMENTS", "SEPA"}
