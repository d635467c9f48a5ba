"""Customers and client tokens (PROTOCOL §3): the bank's end users, and how a bank's app names
one of them to the WebView."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

from webview_bridge.domain.errors import Invalid

MAX_TTL_MINUTES = 518_400  # 360 days
STRONG_AUTH_MAX_TTL_MINUTES = 10


def phone_hash(number: str, key: bytes | str | None = None, region: str | None = None) -> str:
    """The number in E.164, hashed: HMAC-SHA256 under the bank's key, or plain SHA-256 without one.

    `region` (e.g. "GB") lets national numbers through; without it the number must start with +.
    Raises ValueError for something that is not a phone number.
    """
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{number!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{number!r} is not a possible phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).encode()
    if key is None:
        return hashlib.sha256(e164).hexdigest()
    return hmac.new(key.encode() if isinstance(key, str) else key, e164, hashlib.sha256).hexdigest()


def customer_id_for(keyed_hash: Callable[[str], str], bank_id: str, customer_ref: str) -> str:
    """A stable, unguessable id for the customer a bank knows as `customer_ref`.

    Derived rather than stored so every instance, and every login at the same bank, names the
    same customer the same way; keyed so nobody can compute it from the bank's client id.
    """
    return "cus_" + keyed_hash(f"customer:{bank_id}:{customer_ref}")[:32]


def customer_id_choices(keyed_hash: Callable[[str], str], bank_app_id: str, bank_id: str | None,
                        client_id: str) -> tuple[str, str]:
    """The ids a bank app's customer may take, in order of preference.

    First the one a login at the bank also gives (bank id and the bank's client id), so that the
    preloaded customer and the customer who logs in are one. Customers belong to the bank app
    that preloaded them (PROTOCOL §3), so when another app of the same bank already holds that id
    for its own customer, the second is this app's own.
    """
    shared = customer_id_for(keyed_hash, bank_id or bank_app_id, client_id)
    return shared, customer_id_for(keyed_hash, f"app:{bank_app_id}", client_id)


@dataclass(frozen=True)
class ClientToken:
    id: str
    bank_app_id: str
    customer_id: str | None
    customer_ref: str | None  # the bank's client id for the customer, when known
    activation: str  # preloaded | required | independent
    strong_auth: bool
    expires_at: datetime
    used_at: datetime | None

    def live(self, now: datetime) -> bool:
        return now < self.expires_at

    def may_skip_bank_login(self, now: datetime, bank_id: str, issuing_bank_id: str | None) -> bool:
        """Only a strong-auth token, unused, within its life, at the issuing bank, for a customer
        that bank can name: strong customer authentication is never skipped on a long-lived token."""
        return (self.strong_auth and self.used_at is None and self.live(now) and issuing_bank_id is not None
                and bank_id == issuing_bank_id and self.customer_ref is not None)


def check_token_spec(index: int, ttl_minutes: int, strong_auth: bool) -> timedelta:
    if strong_auth and ttl_minutes > STRONG_AUTH_MAX_TTL_MINUTES:
        raise Invalid("strong_auth_ttl_too_long",
                       f"strong_auth is only allowed with ttl_minutes up to {STRONG_AUTH_MAX_TTL_MINUTES}", f"[{index}].strong_auth")
    return timedelta(minutes=ttl_minutes)


def check_phones(phones: list[tuple[str, bool]], where: str) -> None:
    """At most one primary phone, no phone twice."""
    if sum(1 for _, primary in phones if primary) > 1:
        raise Invalid("multiple_primary_phones", "at most one phone may be primary", where)
    seen: set[str] = set()
    for index, (hash_, _) in enumerate(phones):
        if hash_ in seen:
            raise Invalid("duplicate_phone_hash", "the same phone hash is given twice", f"{where}[{index}].hash")
        seen.add(hash_)
