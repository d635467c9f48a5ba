"""Token requests (PROTOCOL §5): what a TPP asks for, and the rules that need more than the body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from webview_bridge.banks.directory import Bank
from webview_bridge.domain.apps import App
from webview_bridge.domain.errors import Conflict, Invalid

RESOURCES = ("ACCOUNTS", "BALANCES", "TRANSACTIONS", "TRANSFER_DESTINATIONS", "FUNDS_CONFIRMATIONS", "STANDING_ORDERS")
LIFETIME = timedelta(minutes=20)


@dataclass(frozen=True)
class TokenRequest:
    id: str
    app_id: str
    status: str  # as stored: PENDING | PROCESSED | REJECTED
    created_at: datetime
    expires_at: datetime
    csrf_token_hash: str
    details: dict[str, Any]
    token_id: str | None
    error: str | None

    def status_at(self, now: datetime) -> str:
        """PENDING turns EXPIRED after 20 minutes; decided requests keep their outcome."""
        return "EXPIRED" if self.status == "PENDING" and now >= self.expires_at else self.status

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def description(self) -> str:
        return self.details["description"]

    @property
    def redirect_url(self) -> str:
        return self.details["redirect_url"]

    @property
    def resources(self) -> list[str]:
        return self.details["resources"]

    @property
    def bank_id(self) -> str | None:
        return self.details.get("bank_id")


def check_context(
    details: dict[str, Any],
    app: App,
    get_bank: Callable[[str], Bank | None],
    owns_customization: Callable[[str], bool],
) -> None:
    """The rules that look beyond the body: the app's registrations, the directory, ownership."""
    if details["redirect_url"] not in app.redirect_urls:
        raise Invalid("redirect_url_not_registered", "redirect_url is not one of this app's registered redirect URLs", "redirect_url")
    bank_id = details.get("bank_id")
    if bank_id is not None:
        bank = get_bank(bank_id)
        if bank is None:
            raise Invalid("unknown_bank", f"no bank {bank_id!r} in the directory", "bank_id")
        for index, resource in enumerate(details["resources"]):
            if not bank.supports(resource):
                raise Invalid("resource_not_supported", f"{bank.name} does not offer {resource}", f"resources[{index}]")
    customization_id = details.get("customization_id")
    if customization_id is not None and not owns_customization(customization_id):
        raise Invalid("unknown_customization", f"no customization {customization_id!r} for this app", "customization_id")


def check_repeated_description(given: str | None, request: TokenRequest) -> None:
    """The seed's rule: a repeated description must match the request's exactly."""
    if given is not None and given != request.description:
        raise Conflict("description_mismatch", "description does not match the request's", "description")
