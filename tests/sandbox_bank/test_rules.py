"""The sandbox bank's rules as plain functions: consent requests and lifecycle, what a consent
grants and covers, frequencyPerDay, paging and the login limits."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from webview_bridge.sandbox_bank import attempts, consents, frequency, paging
from webview_bridge.sandbox_bank.consents import (
    EXPIRED,
    RECEIVED,
    REJECTED,
    REVOKED_BY_PSU,
    TERMINATED_BY_TPP,
    VALID,
)
from webview_bridge.sandbox_bank.data import BankAccount
from webview_bridge.sandbox_bank.errors import Refusal

TODAY = date(2026, 11, 21)


def request(**fields):
    body = {"access": {"accounts": [], "balances": []}, "recurringIndicator": True, "validUntil": "2027-01-31",
            "frequencyPerDay": 4, "combinedServiceIndicator": False, **fields}
    return consents.parse_consent_request(body, TODAY)


def refused(code: str, **fields) -> Refusal:
    with pytest.raises(Refusal) as caught:
        request(**fields)
    assert caught.value.code == code, caught.value.text
    return caught.value


def test_a_bank_offered_consent_request_is_accepted_as_asked():
    parsed = request(access={"transactions": [], "additionalInformation": {"trustedBeneficiaries": [], "ownerName": []}})
    assert parsed.access == {"transactions": [], "additionalInformation": {"ownerName": [], "trustedBeneficiaries": []}}
    assert parsed.valid_until == date(2027, 1, 31) and parsed.frequency_per_day == 4 and parsed.recurring is True


def test_consent_request_refusals():
    assert refused("PARAMETER_NOT_SUPPORTED", access={"accounts": [{"iban": "DE89370400440532013000"}]}).path == "access.accounts"
    refused("PARAMETER_NOT_SUPPORTED", access={"availableAccounts": "allAccounts"})
    refused("PARAMETER_NOT_SUPPORTED", access={"accounts": [], "additionalInformation": {"ownerName": [{"iban": "X"}]}})
    refused("FORMAT_ERROR", access={"additionalInformation": {"ownerName": []}})  # it needs a service beside it
    refused("FORMAT_ERROR", access=[])
    refused("FORMAT_ERROR", recurringIndicator="true")  # strings are not booleans
    refused("FORMAT_ERROR", frequencyPerDay=True)
    refused("FORMAT_ERROR", frequencyPerDay=0)
    refused("FORMAT_ERROR", validUntil="31.01.2027")
    refused("FORMAT_ERROR", combinedServiceIndicator=None)
    refused("SESSIONS_NOT_SUPPORTED", combinedServiceIndicator=True)
    assert refused("PERIOD_INVALID", validUntil="2026-11-20").path == "validUntil"
    with pytest.raises(Refusal):
        consents.parse_consent_request("not an object", TODAY)


def test_valid_until_is_kept_today_and_shortened_beyond_180_days():
    assert request(validUntil=TODAY.isoformat()).valid_until == TODAY
    assert request(validUntil="9999-12-31").valid_until == TODAY + timedelta(days=180)


def test_expiry_is_worked_out_from_valid_until():
    assert consents.effective_status(VALID, TODAY, TODAY) == VALID  # validUntil includes its own day
    assert consents.effective_status(VALID, TODAY, TODAY + timedelta(days=1)) == EXPIRED
    assert consents.effective_status(RECEIVED, TODAY, TODAY + timedelta(days=1)) == EXPIRED
    assert consents.effective_status(REJECTED, TODAY, TODAY + timedelta(days=1)) == REJECTED
    assert consents.effective_status(TERMINATED_BY_TPP, TODAY, TODAY + timedelta(days=9)) == TERMINATED_BY_TPP


def test_status_transitions():
    assert consents.after_authorisation(RECEIVED, 2) == VALID
    assert consents.after_authorisation(RECEIVED, 0) == REJECTED
    assert consents.after_cancel(RECEIVED) == REJECTED
    for status in (VALID, REJECTED, EXPIRED, TERMINATED_BY_TPP, REVOKED_BY_PSU):
        with pytest.raises(Refusal):
            consents.after_authorisation(status, 1)
        with pytest.raises(Refusal):
            consents.after_cancel(status)
    assert consents.after_delete(RECEIVED) == consents.after_delete(VALID) == TERMINATED_BY_TPP
    for ended in (REJECTED, EXPIRED, REVOKED_BY_PSU, TERMINATED_BY_TPP):
        assert consents.after_delete(ended) == ended
    assert consents.after_revoke_by_psu(VALID) == consents.after_revoke_by_psu(REVOKED_BY_PSU) == REVOKED_BY_PSU
    for status in (RECEIVED, REJECTED, EXPIRED, TERMINATED_BY_TPP):
        with pytest.raises(Refusal) as caught:
            consents.after_revoke_by_psu(status)
        assert caught.value.code == "STATUS_INVALID"


def test_only_a_valid_consent_is_usable():
    consents.require_usable(VALID)
    with pytest.raises(Refusal) as expired:
        consents.require_usable(EXPIRED)
    assert expired.value.code == "CONSENT_EXPIRED"
    for status in (RECEIVED, REJECTED, REVOKED_BY_PSU, TERMINATED_BY_TPP):
        with pytest.raises(Refusal) as caught:
            consents.require_usable(status)
        assert caught.value.code == "CONSENT_INVALID"


def _account(name: str, card: bool = False) -> BankAccount:
    return BankAccount(name, name, "CARD" if card else "CHECKING", "EUR", None if card else f"DE00{name}",
                       None, "4111xxxxxx1111" if card else None, "SNDBGB2L", "Owner", None)


def test_what_an_authorised_consent_grants():
    current, card = _account("1"), _account("2", card=True)
    granted = consents.granted_access({"transactions": [], "additionalInformation": {"trustedBeneficiaries": []}},
                                      [current, card])
    refs = [{"iban": "DE001", "currency": "EUR"}, {"maskedPan": "4111xxxxxx1111", "currency": "EUR"}]
    assert granted == {"accounts": refs, "transactions": refs, "additionalInformation": {"trustedBeneficiaries": refs[:1]}}
    assert "balances" not in granted


def test_what_a_consent_covers():
    access = {"transactions": [], "additionalInformation": {"ownerName": []}}
    assert consents.covers(access, "accounts") and consents.covers(access, "transactions") and consents.covers(access, "ownerName")
    assert not consents.covers(access, "balances") and not consents.covers(access, "trustedBeneficiaries")
    with pytest.raises(Refusal) as caught:
        consents.require_service(access, "balances")
    assert caught.value.code == "CONSENT_INVALID"
    with pytest.raises(Refusal) as unknown:
        consents.require_account(("a", "b"), "c")
    assert unknown.value.code == "RESOURCE_UNKNOWN"
    consents.require_account(("a", "b"), "b")


def test_frequency_counting():
    assert frequency.counts(None) and frequency.counts("")
    assert not frequency.counts("192.0.2.1")
    assert not frequency.counts(None, page_index=1)  # following a report's pages
    assert frequency.usage_resource("/v1/accounts/{account-id}/balances", "A") != frequency.usage_resource(
        "/v1/accounts/{account-id}/balances", "B") != frequency.usage_resource("/v1/accounts/{account-id}", "A")
    late = datetime(2026, 11, 21, 23, 59, 30, tzinfo=timezone.utc)
    assert frequency.usage_day(late) == date(2026, 11, 21)
    assert frequency.usage_day(datetime(2026, 11, 22, 0, 30, tzinfo=timezone(timedelta(hours=2)))) == date(2026, 11, 21)
    frequency.check(4, 4, late)
    with pytest.raises(Refusal) as caught:
        frequency.check(5, 4, late)
    assert caught.value.code == "ACCESS_EXCEEDED" and caught.value.retry_after == 30


def test_paging_cuts_one_order_across_parts():
    parts = [("pending", ["p1", "p2"]), ("booked", [f"b{i}" for i in range(7)])]
    pages = [paging.page_of(parts, i, 4) for i in range(3)]
    assert [p.parts for p in pages] == [
        {"pending": ["p1", "p2"], "booked": ["b0", "b1"]},
        {"pending": [], "booked": ["b2", "b3", "b4", "b5"]},
        {"pending": [], "booked": ["b6"]},
    ]
    assert [(p.has_previous, p.has_next, p.count) for p in pages] == [(False, True, 3), (True, True, 3), (True, False, 3)]
    with pytest.raises(Refusal):
        paging.page_of(parts, 3, 4)
    empty = paging.page_of([("booked", [])], 0, 4)
    assert empty.parts == {"booked": []} and not empty.has_next and empty.count == 1


def test_login_limits():
    assert attempts.password_ok("sandbox") and not attempts.password_ok("Sandbox") and not attempts.password_ok("")
    assert attempts.one_time_code_ok(" 123456 ") and not attempts.one_time_code_ok("12345")
    assert attempts.needs_second_factor("carol") and not attempts.needs_second_factor("alice")
    assert not attempts.is_locked(attempts.LOCKOUT_FAILURES - 1) and attempts.is_locked(attempts.LOCKOUT_FAILURES)
    assert not attempts.authorisation_spent(4, 5) and attempts.authorisation_spent(5, 5)
