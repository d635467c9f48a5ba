"""Tokens: read by their grantee, cancelled by their grantee."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update

from webview_bridge.clock import Clock
from webview_bridge.domain.tokens import Token
from webview_bridge.security.keyring import Keyring
from webview_bridge.store import events, outbox
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import apps, token_requests, tokens

_BY_ID = Prepared(select(tokens).where(tokens.c.id == bindparam("token_id")))
END_BANK_CONSENT = "bank.end_consent"


def to_token(row: Any) -> Token:
    return Token(
        id=row.id, request_id=row.request_id, app_id=row.app_id, customer_id=row.customer_id,
        customer_ref=row.customer_ref, bank_id=row.bank_id, resources=tuple(row.resources),
        account_ids=tuple(row.account_ids), status=row.status, created_at=row.created_at, expires_at=row.expires_at,
        bank_user=row.bank_user,
    )


def get(db: Database, token_id: str) -> Token | None:
    with db.read() as conn:
        row = _BY_ID.first(conn, token_id=token_id)
    return to_token(row) if row else None


def list_for_app(
    db: Database, clock: Clock, app_id: str, status: str | None, page: int, per_page: int
) -> tuple[list[Token], int]:
    now = clock.now()
    condition = tokens.c.app_id == app_id
    if status == "ACTIVE":
        condition = and_(condition, tokens.c.status == "ACTIVE", tokens.c.expires_at > now)
    elif status == "EXPIRED":
        condition = and_(condition, tokens.c.status == "ACTIVE", tokens.c.expires_at <= now)
    elif status == "CANCELLED":
        condition = and_(condition, tokens.c.status == "CANCELLED")
    with db.read() as conn:
        total = conn.execute(select(func.count()).select_from(tokens).where(condition)).scalar_one()
        rows = conn.execute(
            select(tokens).where(condition).order_by(tokens.c.created_at.desc(), tokens.c.id)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
    return [to_token(r) for r in rows], total


def get_sealed(db: Database, token_id: str) -> tuple[Token, str | None] | None:
    """The token and its bank consent still encrypted, in one read: the caller checks who may
    use the token before anything is decrypted (open_consent)."""
    with db.read() as conn:
        row = _BY_ID.first(conn, token_id=token_id)
    return (to_token(row), row.bank_consent) if row else None


def open_consent(keyring: Keyring, sealed: str | None, token_id: str) -> str:
    """The bank consent a token holds, decrypted, for the bank's connector only (never logged,
    never shown); KeyError when it holds none."""
    if sealed is None:
        raise KeyError(token_id)
    return keyring.decrypt(sealed)


def cancel_in(conn: Any, clock: Clock, token_id: str) -> bool:
    """Inside a transaction: cancel an ACTIVE (even expired) token, tell its app, and promise to end
    its consent at the bank (the outbox). False if it was not active."""
    changed = conn.execute(
        update(tokens).where(tokens.c.id == token_id, tokens.c.status == "ACTIVE")
        .values(status="CANCELLED", cancelled_at=clock.now())
    ).rowcount
    if changed != 1:
        return False
    row = _BY_ID.first(conn, token_id=token_id)
    outbox.enqueue(conn, clock, END_BANK_CONSENT, {"token_id": token_id}, ordering_key=token_id)
    events.emit(conn, clock, row.app_id, "token.cancelled", {"token_id": token_id, "request_id": row.request_id},
                ordering=row.request_id)
    return True


def cancel(db: Database, clock: Clock, token_id: str) -> Token | None:
    """Idempotent: an ACTIVE (even if expired) token becomes CANCELLED; a cancelled one stays so.
    Ending the bank's consent and telling the TPP are promised in the same transaction."""
    with db.write() as conn:
        cancel_in(conn, clock, token_id)
        row = _BY_ID.first(conn, token_id=token_id)
    return to_token(row) if row else None


def tell_notice(db: Database, clock: Clock, token_id: str, kind: str) -> bool:
    """token.expiring / token.expired, unless the token was cancelled meanwhile."""
    with db.write() as conn:
        row = _BY_ID.first(conn, token_id=token_id)
        if row is None or row.status != "ACTIVE":
            return False
        events.emit(conn, clock, row.app_id, kind, {"token_id": token_id, "request_id": row.request_id},
                    ordering=row.request_id)
    return True


@dataclass(frozen=True)
class GrantRow:
    token: Token
    tpp_name: str
    acting_as: dict[str, Any] | None
    accounts: list[dict[str, str]]


def grants(db: Database, clock: Clock, bank_id: str, customer_id: str | None, client_id: str | None) -> list[GrantRow]:
    """A bank customer's ACTIVE tokens at that bank (PROTOCOL §14): those whose flow carried the
    bank's client token for the customer, or whose bank login is the customer's client id."""
    now = clock.now()
    whose = [tokens.c.customer_id == customer_id] if customer_id else []
    if client_id:
        whose.append(tokens.c.bank_user == client_id)
    if not whose:
        return []
    query = (select(tokens, apps.c.name.label("tpp_name"), token_requests.c.details.label("request_details"))
             .join(apps, apps.c.id == tokens.c.app_id).join(token_requests, token_requests.c.id == tokens.c.request_id)
             .where(tokens.c.bank_id == bank_id, tokens.c.status == "ACTIVE", tokens.c.expires_at > now, or_(*whose))
             .order_by(tokens.c.created_at.desc()))
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [GrantRow(to_token(r), r.tpp_name, r.request_details.get("acting_as"), list(r.accounts or [])) for r in rows]
