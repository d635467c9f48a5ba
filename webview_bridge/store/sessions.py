"""WebView sessions the server issued (PROTOCOL §6), kept as keyed hashes: a cookie whose hash is
not here (or has outlived its hour) is not adopted but replaced."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select

from webview_bridge.clock import Clock
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import web_sessions

_INSERT = Prepared(insert(web_sessions))
_FIND = Prepared(select(web_sessions).where(web_sessions.c.session_hash == bindparam("session_hash")))
_DELETE = Prepared(delete(web_sessions).where(web_sessions.c.session_hash == bindparam("b_hash")))


def issue(db: Database, clock: Clock, session_hash: str, client_token_id: str | None = None) -> None:
    with db.one_statement() as conn:
        _INSERT.run(conn, session_hash=session_hash, client_token_id=client_token_id, created_at=clock.now())


def renew(db: Database, clock: Clock, old_hash: str | None, new_hash: str) -> None:
    """A new session in place of the old one, which dies; a hand-off's client token carries over."""
    with db.write() as conn:
        old = _FIND.first(conn, session_hash=old_hash) if old_hash else None
        if old is not None:
            _DELETE.run(conn, b_hash=old_hash)
        _INSERT.run(conn, session_hash=new_hash, client_token_id=old.client_token_id if old else None,
                    created_at=clock.now())


def created_at(db: Database, session_hash: str):
    with db.read() as conn:
        row = _FIND.first(conn, session_hash=session_hash)
    return row.created_at if row else None
