"""Tokens (PROTOCOL §7): the consent a customer gave, and who may redeem what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webview_bridge.domain.errors import NotAllowed, NotFound


@dataclass(frozen=True)
class Token:
    id: str
    request_id: str
    app_id: str  # the grantee: the TPP that created the request
    customer_id: str
    customer_ref: str
    bank_id: str
    resources: tuple[str, ...]
    account_ids: tuple[str, ...]
    status: str  # as stored: ACTIVE | CANCELLED
    created_at: datetime
    expires_at: datetime
    bank_user: str | None = None  # the bank's name for the customer, when its connector said

    def status_at(self, now: datetime) -> str:
        return "EXPIRED" if self.status == "ACTIVE" and now >= self.expires_at else self.status


def check_redemption(token: Token | None, caller_app_id: str, resource: str, now: datetime) -> Token:
    """Only the grantee, only while active, only what was granted."""
    if token is None:
        raise NotFound("token_not_found", "no such token", "On-Behalf-Of")
    if token.app_id != caller_app_id:
        raise NotAllowed("not_grantee", "this token was granted to another app", "On-Behalf-Of")
    status = token.status_at(now)
    if status == "CANCELLED":
        raise NotAllowed("token_cancelled", "this token was cancelled", "On-Behalf-Of")
    if status == "EXPIRED":
        raise NotAllowed("token_expired", "this token has expired", "On-Behalf-Of")
    if resource not in token.resources:
        raise NotAllowed("resource_not_granted", f"this token does not grant {resource}")
    return token


def check_account(token: Token, account_id: str) -> None:
    """Only the accounts chosen at consent exist for the token."""
    if account_id not in token.account_ids:
        raise NotFound("account_not_found", "no such account for this token")


def belongs_to_customer(token: Token, bank_id: str | None, customer_id: str | None, client_id: str | None) -> bool:
    """A token is a bank customer's (PROTOCOL §14) when it is at that bank and its flow carried the
    bank's client token for them, or the bank's login that granted it is their client id."""
    if bank_id is None or token.bank_id != bank_id:
        return False
    return bool((customer_id and token.customer_id == customer_id) or (client_id and token.bank_user == client_id))
