"""WebView sessions the server issued (PROTOCOL §6), kept as keyed hashes: a cookie whose hash is
not here (or has outlived its hour) is not adopted but replaced."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from webview_bridge.clock import Clock
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import web_sessions

_INSERT = Prepared(insert(web_sessions))
_FIND = Prepared(select(web_sessions).where(web_sessions.c.session_hash == bindparam("session_hash")))
# A renewal moves the row to its new hash: the old value stops working as the new one starts.
_MOVE = Prepared(update(web_sessions).where(web_sessions.c.session_hash == bindparam("b_old"))
                 .values(session_hash=bindparam("b_new"), created_at=bindparam("b_now")))


def issue(db: Database, clock: Clock, session_hash: str, client_token_id: str | None = None) -> None:
    with db.one_statement() as conn:
        _INSERT.run(conn, session_hash=session_hash, client_token_id=client_token_id, created_at=clock.now())


def renew(db: Database, clock: Clock, old_hash: str | None, new_hash: str) -> None:
    """A new session in place of the old one, which dies; a hand-off's client token carries over.
    One UPDATE does it, atomic by itself; a browser whose session we do not know gets a new row."""
    now = clock.now()
    with db.one_statement() as conn:
        if old_hash and _MOVE.run(conn, b_old=old_hash, b_new=new_hash, b_now=now) == 1:
            return
        _INSERT.run(conn, session_hash=new_hash, client_token_id=None, created_at=now)


def created_at(db: Database, session_hash: str):
    with db.read() as conn:
        row = _FIND.first(conn, session_hash=session_hash)
    return row.created_at if row else None
