"""Backend access/refresh token pairs, stored only as keyed hashes.

A family is every pair descended from one client-credentials grant. Rotation spends a refresh
token and adds the next pair in one transaction, guarded by `refresh_used = false`, so of
racing refreshes exactly one can win; spending a spent token revokes the family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from webview_bridge.domain.apps import App
from webview_bridge.store.apps import to_app, app_columns
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import apps, oauth_tokens


@dataclass(frozen=True)
class TokenRecord:
    id: int
    app_id: str
    family_id: str
    scope: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    refresh_used: bool
    revoked: bool


@dataclass(frozen=True)
class NewPair:
    app_id: str
    family_id: str
    scope: str
    access_token_hash: str
    refresh_token_hash: str | None
    issued_at: datetime
    access_expires_at: datetime
    refresh_expires_at: datetime | None

    def row(self) -> dict[str, Any]:
        return {**self.__dict__, "refresh_used": False, "revoked": False}


_RECORD = [oauth_tokens.c[n] for n in TokenRecord.__dataclass_fields__]


def _record(row: Any) -> TokenRecord:
    return TokenRecord(**{n: getattr(row, n) for n in TokenRecord.__dataclass_fields__})


# Statements on the token endpoint's and bearer guard's hot paths are built once.
_INSERT = Prepared(insert(oauth_tokens))
_BEARER = Prepared(
    select(*_RECORD, *app_columns("app__"))
    .join(apps, apps.c.id == oauth_tokens.c.app_id)
    .where(oauth_tokens.c.access_token_hash == bindparam("access_hash"))
)
_BY_REFRESH_HASH = Prepared(select(*_RECORD).where(oauth_tokens.c.refresh_token_hash == bindparam("refresh_hash")))
_SPEND = Prepared(
    update(oauth_tokens)
    .where(oauth_tokens.c.id == bindparam("b_id"), oauth_tokens.c.refresh_used.is_(False),
           oauth_tokens.c.revoked.is_(False))
    .values(refresh_used=True)
)


def save(db: Database, pair: NewPair) -> None:
    with db.one_statement() as conn:
        _INSERT.run(conn, **pair.row())


def by_refresh_hash(db: Database, refresh_hash: str) -> TokenRecord | None:
    with db.read() as conn:
        row = _BY_REFRESH_HASH.first(conn, refresh_hash=refresh_hash)
    return _record(row) if row else None


def by_access_hash(db: Database, access_hash: str) -> TokenRecord | None:
    with db.read() as conn:
        row = conn.execute(select(*_RECORD).where(oauth_tokens.c.access_token_hash == access_hash)).first()
    return _record(row) if row else None


def bearer(db: Database, access_hash: str) -> tuple[TokenRecord, App] | None:
    """The token and its app, for the bearer guard: one query per API call."""
    with db.read() as conn:
        row = _BEARER.first(conn, access_hash=access_hash)
    if row is None:
        return None
    return _record(row), to_app(row, "app__")


def rotate(db: Database, spent_id: int, successor: NewPair) -> bool:
    """Spend a refresh token and store its successor atomically; False if it was already spent."""
    with db.write() as conn:
        if _SPEND.run(conn, b_id=spent_id) != 1:
            return False
        _INSERT.run(conn, **successor.row())
    return True


def revoke_family(db: Database, family_id: str) -> None:
    with db.write() as conn:
        conn.execute(update(oauth_tokens).where(oauth_tokens.c.family_id == family_id).values(revoked=True))


def revoke_pair(db: Database, token_id: int) -> None:
    with db.write() as conn:
        conn.execute(update(oauth_tokens).where(oauth_tokens.c.id == token_id).values(revoked=True))
