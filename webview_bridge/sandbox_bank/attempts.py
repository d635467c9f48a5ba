"""Logging in at the sandbox bank: the credentials, and the limits a real bank puts on guessing.

- One authorisation (one consent's SCA) allows `max_login_failures` wrong passwords or one-time
  codes; then the consent is rejected and the customer sent back to the TPP.
- One user name allows LOCKOUT_FAILURES failures an hour, across authorisations; then the user is
  locked and every attempt gets the same "locked" answer, right password or not.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from webview_bridge.sandbox_bank.data import NEEDS_SECOND_FACTOR, ONE_TIME_CODE, PASSWORD

LOCKOUT_FAILURES = 20
LOCKOUT_WINDOW = timedelta(hours=1)


def password_ok(password: str) -> bool:
    return hmac.compare_digest(password.encode(), PASSWORD.encode())


def one_time_code_ok(code: str) -> bool:
    return hmac.compare_digest(code.strip().encode(), ONE_TIME_CODE.encode())


def needs_second_factor(psu_id: str) -> bool:
    return psu_id in NEEDS_SECOND_FACTOR


def is_locked(failures_in_window: int) -> bool:
    return failures_in_window >= LOCKOUT_FAILURES


def authorisation_spent(failures: int, max_failures: int) -> bool:
    return failures >= max_failures
