"""frequencyPerDay: how often a TPP may read an account without the customer present.

As the Berlin Group implementation guidelines count it: per consent, per account resource and
endpoint, per (UTC) day; a call that carries PSU-IP-Address was made by the customer and does not
count. Following a transaction report's `_links.next` continues the same report, so only its
first page counts (otherwise a long history could never be read on a frequency of 4).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from webview_bridge.sandbox_bank.errors import Refusal


def counts(psu_ip_address: str | None, page_index: int = 0) -> bool:
    return not psu_ip_address and page_index == 0


def usage_resource(endpoint: str, resource_id: str | None = None) -> str:
    """The counter's key: the endpoint's template and the account it reads ("*" for the account list)."""
    return f"{endpoint}|{resource_id or '*'}"


def usage_day(now: datetime) -> date:
    return now.astimezone(timezone.utc).date()


def check(calls_today: int, frequency_per_day: int, now: datetime) -> None:
    """calls_today includes this one. Refused until the next UTC midnight."""
    if calls_today > frequency_per_day:
        midnight = datetime.combine(usage_day(now) + timedelta(days=1), time(0), tzinfo=timezone.utc)
        raise Refusal("ACCESS_EXCEEDED", f"this resource was read {frequency_per_day} times today without the customer; "
                      "try again tomorrow (UTC) or with the customer present",
                      retry_after=max(1, int((midnight - now).total_seconds())))
