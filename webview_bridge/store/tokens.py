"""Tokens: read by their grantee, cancelled by their grantee."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, func, select, update

from webview_bridge.clock import Clock
from webview_bridge.domain.tokens import Token
from webview_bridge.security.keyring import Keyring
from webview_bridge.store import outbox
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import tokens

_BY_ID = Prepared(select(tokens).where(tokens.c.id == bindparam("token_id")))
_CONSENT = Prepared(select(tokens.c.bank_consent).where(tokens.c.id == bindparam("token_id")))
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


def credentials(db: Database, keyring: Keyring, token_id: str) -> str:
    """What the bank's connector needs to read for this token; never logged, never shown."""
    with db.read() as conn:
        row = _CONSENT.first(conn, token_id=token_id)
    if row is None or row.bank_consent is None:
        raise KeyError(token_id)
    return keyring.decrypt(row.bank_consent)


def cancel(db: Database, clock: Clock, token_id: str) -> Token | None:
    """Idempotent: an ACTIVE (even if expired) token becomes CANCELLED; a cancelled one stays so.
    Ending the bank's consent is promised in the same transaction (the outbox), so it is never lost."""
    with db.write() as conn:
        changed = conn.execute(
            update(tokens).where(tokens.c.id == token_id, tokens.c.status == "ACTIVE")
            .values(status="CANCELLED", cancelled_at=clock.now())
        ).rowcount
        row = _BY_ID.first(conn, token_id=token_id)
        if changed == 1 and row is not None:
            outbox.enqueue(conn, clock, END_BANK_CONSENT, {"token_id": token_id}, ordering_key=token_id)
    return to_token(row) if row else None
