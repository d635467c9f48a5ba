"""GET /banks: the directory (PROTOCOL §4). No credentials needed."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from webview_bridge.wire import BankList, BankView
from webview_bridge.wire import Paging
from webview_bridge.api.operations import ApiRoute, Operation, json_response, parse_query
from webview_bridge.banks.directory import FEATURES, Bank, BankQuery
from webview_bridge.runtime import Runtime

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _comma_list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


class BanksQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: str | None = Field(None, description="comma-separated bank ids")
    search: str | None = Field(None, max_length=100, description="case- and accent-insensitive, on name and BIC")
    countries: str | None = Field(None, description="comma-separated ISO 3166 alpha-2 codes")
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(200, ge=1, le=200)
    sort: Literal["name", "country"] = "name"
    supports_account_details_api: bool | None = None
    supports_balance: bool | None = None
    supports_transactions_date_filter: bool | None = None
    supports_standing_order: bool | None = None
    supports_funds_confirmation: bool | None = None
    requires_external_auth: bool | None = None

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: str | None) -> str | None:
        for code in _comma_list(value):
            if not _COUNTRY.match(code):
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code such as DE")
        return value


def bank_view(bank: Bank) -> BankView:
    return BankView(
        id=bank.id, name=bank.name, bic=bank.bic, countries=list(bank.countries), logo_uri=bank.logo_uri,
        status=bank.status, supports_information=bank.supports_information,
        **{feature: getattr(bank, feature) for feature in FEATURES},
    )


async def list_banks(request: Request, runtime: Runtime) -> JSONResponse:
    query = parse_query(request, BanksQuery)
    found = runtime.directory.find(BankQuery(
        ids=_comma_list(query.ids),
        search=query.search,
        countries=_comma_list(query.countries),
        features=tuple((f, getattr(query, f)) for f in FEATURES if getattr(query, f) is not None),
        sort=query.sort,
        page=query.page,
        per_page=query.per_page,
    ))
    return json_response(BankList(
        banks=[bank_view(b) for b in found.banks],
        paging=Paging(page=found.page, per_page=found.per_page, page_count=found.page_count, total_count=found.total_count),
    ))


routes = [
    ApiRoute("/banks", list_banks, methods=["GET"], name="list_banks", operation=Operation(
        "Search the bank directory", query=BanksQuery, responses={200: BankList}, tags=["banks"])),
]
