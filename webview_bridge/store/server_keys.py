"""Server keys kept in the database, so every instance on one database shares them."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from webview_bridge.clock import Clock
from webview_bridge.security.keyring import Keyring
from webview_bridge.store.database import Database
from webview_bridge.store.schema import callback_secrets, server_keys


def _new_key() -> str:
    return secrets.token_urlsafe(32)


def load(db: Database) -> tuple[str, ...]:
    with db.read() as conn:
        return tuple(conn.execute(select(server_keys.c.secret).order_by(server_keys.c.id)).scalars())


def load_or_create(db: Database, clock: Clock) -> tuple[str, ...]:
    """The first instance to start makes key 1; the others, racing, read it back."""
    keys = load(db)
    if keys:
        return keys
    try:
        with db.write() as conn:
            conn.execute(insert(server_keys).values(id=1, secret=_new_key(), created_at=clock.now()))
    except IntegrityError:
        pass
    return load(db)


def rotate(db: Database, clock: Clock) -> int:
    """Add a newer key and re-encrypt callback secrets under it; returns how many keys there are."""
    with db.write() as conn:
        rows = conn.execute(select(server_keys.c.id, server_keys.c.secret).order_by(server_keys.c.id)).all()
        next_id = (rows[-1].id if rows else 0) + 1
        keys = [r.secret for r in rows] + [_new_key()]
        conn.execute(insert(server_keys).values(id=next_id, secret=keys[-1], created_at=clock.now()))
        ring = Keyring(keys)
        for row in conn.execute(select(callback_secrets.c.id, callback_secrets.c.ciphertext)).all():
            conn.execute(
                update(callback_secrets)
                .where(callback_secrets.c.id == row.id)
                .values(ciphertext=ring.reencrypt(row.ciphertext))
            )
    return len(keys)
