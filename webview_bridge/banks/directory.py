"""The bank directory (PROTOCOL §4): shipped data, and the rules for searching it."""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

FEATURES = (
    "supports_account_details_api",
    "supports_balance",
    "supports_transactions_date_filter",
    "supports_standing_order",
    "supports_funds_confirmation",
    "requires_external_auth",
)


@dataclass(frozen=True)
class Bank:
    id: str
    name: str
    bic: str
    countries: tuple[str, ...]
    colour: str
    status: str  # "available" | "maintenance"
    always_fails: bool  # sandbox behaviour: authorisation ends in bank_unavailable
    supports_account_details_api: bool
    supports_balance: bool
    supports_transactions_date_filter: bool
    supports_standing_order: bool
    supports_funds_confirmation: bool
    supports_information: bool
    requires_external_auth: bool

    @property
    def monogram(self) -> str:
        words = [w for w in self.name.replace("&", " ").split() if w[:1].isupper()]
        return "".join(w[0] for w in words[:2]) or self.name[:1]

    @property
    def logo_uri(self) -> str:
        """A tiny inline SVG monogram: no request to anyone, allowed by `img-src 'self' data:`."""
        svg = (
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 40'>"
            f"<rect width='40' height='40' rx='8' fill='{self.colour}'/>"
            "<text x='20' y='26' font-family='sans-serif' font-size='16' font-weight='700' "
            f"text-anchor='middle' fill='#fff'>{self.monogram}</text></svg>"
        )
        return "data:image/svg+xml," + quote(svg, safe=" '=/:,")

    def supports(self, resource: str) -> bool:
        needs = {
            "BALANCES": self.supports_balance,
            "STANDING_ORDERS": self.supports_standing_order,
            "FUNDS_CONFIRMATIONS": self.supports_funds_confirmation,
        }
        return needs.get(resource, True)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Crédit Lumière' and 'credit lumiere' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ł", "l").replace("ø", "o")


@cache
def all_banks() -> tuple[Bank, ...]:
    raw = json.loads((Path(__file__).parent / "directory.json").read_text(encoding="utf-8"))
    return tuple(Bank(**{**b, "countries": tuple(b["countries"])}) for b in raw["banks"])


@cache
def _by_id() -> dict[str, Bank]:
    return {b.id: b for b in all_banks()}


def get_bank(bank_id: str) -> Bank | None:
    return _by_id().get(bank_id)


@dataclass(frozen=True)
class BankQuery:
    ids: tuple[str, ...] = ()
    search: str | None = None
    countries: tuple[str, ...] = ()
    features: tuple[tuple[str, bool], ...] = ()
    sort: str = "name"
    page: int = 1
    per_page: int = 200


@dataclass(frozen=True)
class BankPage:
    banks: list[Bank]
    page: int
    per_page: int
    page_count: int
    total_count: int


@cache
def _folded(bank: Bank) -> tuple[str, str]:
    return fold(bank.name), fold(bank.bic)


def find_banks(query: BankQuery, banks: tuple[Bank, ...] | None = None) -> BankPage:
    found = list(banks if banks is not None else all_banks())
    if query.ids:
        wanted = set(query.ids)
        found = [b for b in found if b.id in wanted]
    if query.search:
        needle = fold(query.search.strip())
        found = [b for b in found if needle in _folded(b)[0] or needle in _folded(b)[1]]
    if query.countries:
        countries = set(query.countries)
        found = [b for b in found if countries & set(b.countries)]
    for feature, wanted_value in query.features:
        found = [b for b in found if getattr(b, feature) is wanted_value]
    if query.sort == "country":
        found.sort(key=lambda b: (b.countries[0], _folded(b)[0]))
    else:
        found.sort(key=lambda b: _folded(b)[0])
    total = len(found)
    start = (query.page - 1) * query.per_page
    return BankPage(
        banks=found[start : start + query.per_page],
        page=query.page,
        per_page=query.per_page,
        page_count=max(1, math.ceil(total / query.per_page)),
        total_count=total,
    )
