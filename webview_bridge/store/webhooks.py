"""Webhook endpoints (PROTOCOL §12). The secret is shown once, at creation, and kept encrypted,
since it signs every delivery."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, insert, select, update

from webview_bridge.clock import Clock
from webview_bridge.domain.webhooks import Webhook
from webview_bridge.ids import new_id
from webview_bridge.security.keyring import Keyring
from webview_bridge.store.database import Database
from webview_bridge.store.schema import webhooks


def to_webhook(row: Any) -> Webhook:
    return Webhook(row.id, row.app_id, row.url, tuple(row.events) if row.events is not None else None, row.status,
                   row.created_at, row.failing_since, row.last_error, row.disabled_reason)


def create(db: Database, keyring: Keyring, clock: Clock, app_id: str, url: str,
           event_types: tuple[str, ...] | None) -> tuple[Webhook, str]:
    """The endpoint and its secret: whsec_ + standard base64 of 32 random bytes (the key is those bytes)."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row = {"id": new_id("wh"), "app_id": app_id, "url": url, "events": list(event_types) if event_types else None,
           "status": "active", "secret_ciphertext": keyring.encrypt(secret), "created_at": clock.now(),
           "failing_since": None, "last_error": None, "disabled_reason": None}
    with db.write() as conn:
        conn.execute(insert(webhooks).values(**row))
    return to_webhook(SimpleNamespace(**row)), secret


def listed(db: Database, app_id: str) -> list[Webhook]:
    with db.read() as conn:
        rows = conn.execute(select(webhooks).where(webhooks.c.app_id == app_id).order_by(webhooks.c.created_at)).all()
    return [to_webhook(r) for r in rows]


def get(db: Database, webhook_id: str) -> Webhook | None:
    with db.read() as conn:
        row = conn.execute(select(webhooks).where(webhooks.c.id == webhook_id)).first()
    return to_webhook(row) if row else None


def secret(db: Database, keyring: Keyring, webhook_id: str) -> str:
    with db.read() as conn:
        sealed = conn.execute(select(webhooks.c.secret_ciphertext).where(webhooks.c.id == webhook_id)).scalar_one()
    return keyring.decrypt(sealed)


def remove(db: Database, webhook_id: str) -> None:
    with db.write() as conn:
        conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))


def reactivate(db: Database, webhook_id: str) -> None:
    with db.write() as conn:
        conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(
            status="active", failing_since=None, disabled_reason=None))


def delivered(db: Database, webhook_id: str) -> None:
    with db.write() as conn:
        conn.execute(update(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.failing_since.is_not(None))
                     .values(failing_since=None, last_error=None))


def failed(db: Database, webhook_id: str, now: datetime, error: str) -> datetime:
    """Record a failed delivery; when the endpoint started failing (now, if it was fine)."""
    with db.write() as conn:
        conn.execute(update(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.failing_since.is_(None))
                     .values(failing_since=now))
        conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(last_error=error[:200]))
        since = conn.execute(select(webhooks.c.failing_since).where(webhooks.c.id == webhook_id)).scalar()
    return since or now


def disable(db: Database, webhook_id: str, reason: str) -> None:
    with db.write() as conn:
        conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(status="disabled",
                                                                                disabled_reason=reason[:200]))
