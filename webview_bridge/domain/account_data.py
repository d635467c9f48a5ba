"""Rules for reading a customer's account data (PROTOCOL §7) that need no bank and no HTTP: the
date range asked of the bank, and paging through what it answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from webview_bridge.banks.model import Transaction
from webview_bridge.domain.errors import Invalid

# Without start_date, transactions start this many days back (PROTOCOL §7).
DEFAULT_DAYS_BACK = 89


def transaction_window(start: date | None, end: date | None, today: date, bank_filters_dates: bool) -> tuple[date, date | None]:
    """The range to ask the bank for. A bank that cannot filter by date is asked for the default
    range only, so a TPP that asks it for dates is told so rather than given the wrong days."""
    if (start or end) and not bank_filters_dates:
        raise Invalid("date_filter_not_supported", "this bank cannot filter transactions by date", "start_date")
    if start and end and start > end:
        raise Invalid("invalid_date_range", "start_date is after end_date", "start_date")
    return (start or today - timedelta(days=DEFAULT_DAYS_BACK)), end


@dataclass(frozen=True)
class TransactionPage:
    transactions: list[Transaction]
    next_after: tuple[str, str] | None  # (booked_at ISO, id) of the last one shown, when more follow


def page(history: Sequence[Transaction], after: tuple[datetime, str] | None, limit: int) -> TransactionPage:
    """Newest first, `limit` at a time, continuing strictly after the last one shown."""
    remaining = [t for t in history if after is None or (t.booked_at, t.id) < after]
    shown = remaining[:limit]
    more = len(remaining) > limit
    return TransactionPage(shown, (shown[-1].booked_at.isoformat(), shown[-1].id) if more and shown else None)
