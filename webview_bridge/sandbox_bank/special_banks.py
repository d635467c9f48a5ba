"""Which sandbox banks misbehave on purpose (PROTOCOL §4), known here rather than in the
directory: a real directory entry says nothing about a bank being broken."""

from __future__ import annotations

from typing import Any

# Its every call fails, so a flow through it ends bank_unavailable.
ALWAYS_FAILING = frozenset({"citta-eterna"})


def is_unavailable(bank: Any) -> bool:
    """A bank in maintenance or one that always fails answers 503 SERVICE_UNAVAILABLE to everything."""
    return bank.status != "available" or bank.id in ALWAYS_FAILING
