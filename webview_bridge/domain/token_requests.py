"""Token requests (PROTOCOL §5): what a TPP asks for, and the rules that need more than the body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from webview_bridge.banks.directory import Bank
from webview_bridge.domain.apps import App
from webview_bridge.domain.errors import Conflict, Invalid
from webview_bridge.domain.tokens import Token

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


# A token may be renewed (PROTOCOL §13) while active, or within this long of its expiry.
RENEWABLE_AFTER_EXPIRY = timedelta(days=90)


def check_replacement(token: Token | None, app_id: str, bank_id: str | None, now: datetime) -> str:
    """The bank a re-consent goes to: the renewed token's. Only this app's ACTIVE token, or one that
    expired in the last 90 days, can be renewed; another app's token is as unknown as none."""
    if token is None or token.app_id != app_id:
        raise Invalid("unknown_token", "replaces_token_id names none of this app's tokens", "replaces_token_id")
    status = token.status_at(now)
    if status == "CANCELLED":
        raise Invalid("token_not_renewable", "a cancelled token cannot be renewed", "replaces_token_id")
    if status == "EXPIRED" and now - token.expires_at > RENEWABLE_AFTER_EXPIRY:
        raise Invalid("token_not_renewable", "the token expired more than 90 days ago", "replaces_token_id")
    if bank_id is not None and bank_id != token.bank_id:
        raise Invalid("bank_not_allowed", "a renewal goes to the renewed token's bank", "bank_id")
    return token.bank_id


def check_repeated_description(given: str | None, request: TokenRequest) -> None:
    """The seed's rule: a repeated description must match the request's exactly."""
    if given is not None and given != request.description:
        raise Conflict("description_mismatch", "description does not match the request's", "description")
