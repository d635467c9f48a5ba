"""Events (PROTOCOL §12), written in the same transaction as the change they report, with a
delivery promised to every endpoint of the app that wants them (the outbox) — so a crash never
loses one, and each endpoint hears of one token request's events in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select

from webview_bridge.clock import Clock
from webview_bridge.domain.webhooks import EVENT_RETENTION, Event
from webview_bridge.ids import new_id
from webview_bridge.store import outbox
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import events, webhooks

DELIVER = "webhook.deliver"
# Every change a TPP hears of runs these two: compiled once.
_INSERT = Prepared(insert(events).inline())
_LISTENERS = Prepared(select(webhooks.c.id, webhooks.c.events)
                      .where(webhooks.c.app_id == bindparam("app_id"), webhooks.c.status == "active"))


def _to_event(row: Any) -> Event:
    return Event(row.id, row.app_id, row.type, row.data, row.created_at)


def emit(conn: Connection, clock: Clock, app_id: str, event_type: str, data: dict[str, Any], *,
         ordering: str | None = None) -> str:
    """Record an event and promise its delivery to each of the app's endpoints that wants it."""
    event_id = new_id("ev")
    now = clock.now()
    _INSERT.run(conn, id=event_id, app_id=app_id, type=event_type, data=data, created_at=now)
    for row in _LISTENERS.all(conn, app_id=app_id):
        if row.events is None or event_type in row.events:
            outbox.enqueue(conn, clock, DELIVER, {"webhook_id": row.id, "event_id": event_id},
                           ordering_key=f"{row.id}:{ordering or event_id}"[:64])
    return event_id


def get(db: Database, event_id: str) -> Event | None:
    with db.read() as conn:
        row = conn.execute(select(events).where(events.c.id == event_id)).first()
    return _to_event(row) if row else None


def listed(db: Database, clock: Clock, app_id: str, after: str | None, limit: int) -> list[Event] | None:
    """The app's events of the last 30 days, oldest first, after `after`; None when `after` is not one of them."""
    since: datetime = clock.now() - EVENT_RETENTION
    with db.read() as conn:
        start = 0
        if after is not None:
            found = conn.execute(select(events.c.seq).where(events.c.id == after, events.c.app_id == app_id)).scalar()
            if found is None:
                return None
            start = found
        rows = conn.execute(select(events).where(and_(events.c.app_id == app_id, events.c.seq > start,
                                                      events.c.created_at >= since))
                            .order_by(events.c.seq).limit(limit)).all()
    return [_to_event(r) for r in rows]
