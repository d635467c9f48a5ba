"""Rate limits (PROTOCOL §1): fixed one-minute windows per app, per browser session, or per app
id and client address for failed client authentications.

On PostgreSQL the counters live in the database, so several instances share one limit; on
SQLite (one process, the embedded default) they live in memory and cost no write.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import rate_counters

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limits:
    """Requests per minute; 0 turns a limit off."""

    token: int = 300  # POST /oauth/token and /oauth/revoke, per authenticated app
    api: int = 1200  # JSON API, per app
    pages: int = 60  # page form posts, per session


def _window(now: datetime) -> tuple[int, int]:
    """(window number, seconds until it ends)."""
    seconds = int(now.timestamp())
    return seconds // WINDOW_SECONDS, WINDOW_SECONDS - seconds % WINDOW_SECONDS


class MemoryCounter:
    def __init__(self) -> None:
        self._hits: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, window: int) -> int:
        with self._lock:
            if len(self._hits) > 50_000:  # forget finished windows
                self._hits = {k: v for k, v in self._hits.items() if k[1] >= window}
            count = self._hits.get((bucket, window), 0) + 1
            self._hits[(bucket, window)] = count
            return count


_HIT = Prepared(pg_insert(rate_counters).on_conflict_do_update(
    index_elements=["bucket", "window"], set_={"hits": rate_counters.c.hits + 1},
).returning(rate_counters.c.hits))


class DatabaseCounter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._calls = itertools.count(1)

    def hit(self, bucket: str, window: int) -> int:
        # One statement counts atomically by itself: no BEGIN and COMMIT around it.
        with self.db.one_statement() as conn:
            count = int(_HIT.first(conn, bucket=bucket, window=window, hits=1).hits)
        if next(self._calls) % 1000 == 0:  # forget finished windows
            with self.db.one_statement() as conn:
                conn.execute(delete(rate_counters).where(rate_counters.c.window < window - 1))
        return count


class RateLimiter:
    def __init__(self, db: Database, limits: Limits) -> None:
        self.limits = limits
        self.db = db
        self.shared = db.dialect == "postgresql"
        self.counter = DatabaseCounter(db) if self.shared else MemoryCounter()

    async def check(self, kind: str, key: str, now: datetime) -> int | None:
        """retry_after(), off the event loop only when it has to touch the database."""
        if getattr(self.limits, kind) <= 0:
            return None
        if self.shared:
            return await self.db.run(self.retry_after, kind, key, now)
        return self.retry_after(kind, key, now)

    def retry_after(self, kind: str, key: str, now: datetime, limit: int | None = None) -> int | None:
        """Count one request; the seconds to wait if it is over the limit, else None. `limit`
        stands in for a kind that Limits does not carry (the token endpoint's failures)."""
        limit = getattr(self.limits, kind) if limit is None else limit
        if limit <= 0:
            return None
        window, remaining = _window(now)
        return remaining if self.counter.hit(f"{kind}:{key}", window) > limit else None
