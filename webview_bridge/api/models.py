"""Models shared by several resources: money, paging."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import Field, PlainSerializer, field_validator

from webview_bridge.clock import rfc3339
from webview_bridge.api.operations import ResponseModel, StrictModel

_MONEY_VALUE = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


class Money(ResponseModel):
    currency: str
    value: str = Field(description="a decimal string, e.g. \"1234.50\"")


class MoneyIn(StrictModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    value: str = Field(description="a decimal string with at most 2 decimals, e.g. \"1234.50\"")

    @field_validator("value")
    @classmethod
    def _decimal_string(cls, value: str) -> str:
        if not _MONEY_VALUE.match(value):
            raise ValueError("value must be a decimal string such as \"1234.50\"")
        return value

    def decimal(self) -> Decimal:
        try:
            return Decimal(self.value)
        except InvalidOperation:  # pragma: no cover - the pattern already refused it
            raise ValueError(self.value)


class Paging(ResponseModel):
    page: int
    per_page: int
    page_count: int
    total_count: int


def _rfc3339(moment: datetime) -> str:
    return rfc3339(moment)


# RFC 3339 in UTC with second precision, as PROTOCOL §1 writes it: 2026-11-21T08:00:00Z
Timestamp = Annotated[datetime, PlainSerializer(_rfc3339, return_type=str, when_used="json")]
