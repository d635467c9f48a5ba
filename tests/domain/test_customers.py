from datetime import datetime, timedelta, timezone

import pytest

from webview_bridge import phone_hash
from webview_bridge.domain.customers import ClientToken, check_phones, check_token_spec
from webview_bridge.domain.errors import Invalid

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)


def test_phone_hash_normalises_to_e164_first():
    international = phone_hash("+44 7700 900123")
    assert international == phone_hash("+447700900123") == phone_hash("07700 900123", region="GB")
    assert len(international) == 64 and international == international.lower()
    import hashlib

    assert international == hashlib.sha256(b"+447700900123").hexdigest()  # what the seed describes


def test_a_bank_key_makes_an_hmac():
    import hashlib
    import hmac

    keyed = phone_hash("+447700900123", key="bank-secret")
    assert keyed == hmac.new(b"bank-secret", b"+447700900123", hashlib.sha256).hexdigest()
    assert keyed != phone_hash("+447700900123")


@pytest.mark.parametrize("number", ["hello", "+1", "07700 900123"])
def test_not_a_phone_number(number):
    with pytest.raises(ValueError):
        phone_hash(number)


def token(**changes):
    base = dict(id="ct_1", bank_app_id="app_b", customer_id="cus_1", customer_ref="alice", activation="preloaded",
                strong_auth=True, expires_at=NOW + timedelta(minutes=10), used_at=None)
    return ClientToken(**{**base, **changes})


def test_only_a_fresh_unused_strong_token_at_its_own_bank_skips_the_login():
    assert token().may_skip_bank_login(NOW, "sandbox", "sandbox")
    assert not token(strong_auth=False).may_skip_bank_login(NOW, "sandbox", "sandbox")
    assert not token(used_at=NOW).may_skip_bank_login(NOW, "sandbox", "sandbox")
    assert not token().may_skip_bank_login(NOW + timedelta(minutes=10), "sandbox", "sandbox")
    assert not token().may_skip_bank_login(NOW, "emeraude", "sandbox")
    assert not token().may_skip_bank_login(NOW, "sandbox", None)
    assert not token(customer_ref=None).may_skip_bank_login(NOW, "sandbox", "sandbox")


def test_strong_auth_needs_a_short_life_and_phones_one_primary():
    assert check_token_spec(0, 10, True) == timedelta(minutes=10)
    with pytest.raises(Invalid) as long_lived:
        check_token_spec(2, 11, True)
    assert (long_lived.value.code, long_lived.value.field) == ("strong_auth_ttl_too_long", "[2].strong_auth")
    with pytest.raises(Invalid) as two:
        check_phones([("a" * 64, True), ("b" * 64, True)], "[0].phones")
    assert (two.value.code, two.value.field) == ("multiple_primary_phones", "[0].phones")
