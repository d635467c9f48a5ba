"""The outbox: work promised in the same transaction as the change that needs it, done later by
the worker until it succeeds (PROTOCOL §7 "retried later", §12 "a crash never loses an event").

A row is claimed by moving its due time past the claim's lease: a worker that dies mid-task leaves
the row to be claimed again when the lease ends, so the work happens at least once. On PostgreSQL
`FOR UPDATE SKIP LOCKED` lets several instances claim different rows at once; rows sharing an
ordering key are done one at a time, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from webview_bridge.clock import Clock
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import outbox

LEASE = timedelta(minutes=2)
ENQUEUED = "wvb_outbox_enqueued"
# Several per flow (a request's expiry, a token's notices, each webhook delivery): compiled once.
_INSERT = Prepared(insert(outbox).inline())


@dataclass(frozen=True)
class Task:
    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def enqueue(conn: Connection, clock: Clock, topic: str, payload: dict[str, Any], *, ordering_key: str | None = None,
            due_at: datetime | None = None) -> None:
    now = clock.now()
    if due_at is None or due_at <= now:
        conn.info[ENQUEUED] = True  # read at commit, to wake this instance's worker at once; later work waits for its poll
    _INSERT.run(conn, topic=topic, ordering_key=ordering_key, payload=payload, created_at=now, due_at=due_at or now,
                attempts=0, last_error=None, done_at=None)


def claim(db: Database, clock: Clock, limit: int = 20) -> list[Task]:
    """Due rows, each the oldest pending of its ordering key, leased to this worker."""
    now = clock.now()
    older = outbox.alias("older")
    blocked = select(older.c.id).where(
        older.c.ordering_key == outbox.c.ordering_key, older.c.done_at.is_(None), older.c.id < outbox.c.id).exists()
    query = (select(outbox).where(outbox.c.done_at.is_(None), outbox.c.due_at <= now, ~blocked)
             .order_by(outbox.c.id).limit(limit))
    with db.write() as conn:
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=outbox)
        rows = conn.execute(query).all()
        if rows:
            conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                         .values(due_at=now + LEASE, attempts=outbox.c.attempts + 1))
    return [Task(r.id, r.topic, r.payload, r.attempts + 1, r.created_at) for r in rows]


def done(db: Database, clock: Clock, task_id: int) -> None:
    with db.write() as conn:
        conn.execute(update(outbox).where(outbox.c.id == task_id).values(done_at=clock.now(), last_error=None))


def retry(db: Database, task_id: int, due_at: datetime, error: str) -> None:
    with db.write() as conn:
        conn.execute(update(outbox).where(outbox.c.id == task_id).values(due_at=due_at, last_error=error[:200]))


def pending(db: Database, topic: str | None = None) -> int:
    with db.read() as conn:
        condition = outbox.c.done_at.is_(None)
        if topic is not None:
            condition = and_(condition, outbox.c.topic == topic)
        return conn.execute(select(func.count()).select_from(outbox).where(condition)).scalar_one()


def next_due(db: Database) -> datetime | None:
    with db.read() as conn:
        return conn.execute(select(func.min(outbox.c.due_at)).where(outbox.c.done_at.is_(None))).scalar()
