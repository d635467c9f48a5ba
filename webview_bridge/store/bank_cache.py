"""Bank answers kept per token (PROTOCOL §7): a TPP's rereads stay within the bank's daily
allowance. In the database, so every instance shares them; encrypted, because they are account
data; gone with the token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from webview_bridge.clock import Clock
from webview_bridge.security.keyring import Keyring
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import bank_cache

_GET = Prepared(select(bank_cache.c.body, bank_cache.c.expires_at)
                .where(bank_cache.c.token_id == bindparam("token_id"), bank_cache.c.key == bindparam("key")))


def _put(dialect):
    statement = dialect.insert(bank_cache)
    return Prepared(statement.on_conflict_do_update(
        index_elements=[bank_cache.c.token_id, bank_cache.c.key],
        set_={"body": statement.excluded.body, "expires_at": statement.excluded.expires_at}))


_PUT = {"sqlite": _put(sqlite), "postgresql": _put(postgresql)}


class AnswerCache:
    def __init__(self, db: Database, keyring: Callable[[], Keyring], clock: Clock, lifetime: timedelta) -> None:
        self.db, self.keyring, self.clock, self.lifetime = db, keyring, clock, lifetime

    def _get(self, token_id: str, key: str) -> str | None:
        with self.db.read() as conn:
            row = _GET.first(conn, token_id=token_id, key=key)
        if row is None or row.expires_at <= self.clock.now():
            return None
        return self.keyring().decrypt(row.body)

    def _put(self, token_id: str, key: str, value: str) -> None:
        with self.db.one_statement() as conn:
            _PUT[self.db.dialect].run(conn, token_id=token_id, key=key, body=self.keyring().encrypt(value),
                                      expires_at=self.clock.now() + self.lifetime)

    async def get(self, token_id: str, key: str) -> str | None:
        if not self.lifetime:
            return None
        return await self.db.run(self._get, token_id, key)

    async def put(self, token_id: str, key: str, value: str) -> None:
        if self.lifetime:
            await self.db.run(self._put, token_id, key, value)

    def forget(self, token_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(bank_cache).where(bank_cache.c.token_id == token_id))
