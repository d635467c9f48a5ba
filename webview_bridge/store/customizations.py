"""Customizations, each owned by one app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from webview_bridge.clock import Clock
from webview_bridge.domain.customizations import Customization
from webview_bridge.ids import new_id
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import customizations

_GET = Prepared(select(customizations).where(customizations.c.id == bindparam("customization_id")))
FIELDS = ("display_name", "logo", "colors", "dark_colors", "corner_radius_px", "consent_text")


def _to_customization(row: Any) -> Customization:
    return Customization(**{c.name: getattr(row, c.name) for c in customizations.c})


def get_in(conn: Connection, customization_id: str) -> Customization | None:
    row = _GET.first(conn, customization_id=customization_id)
    return _to_customization(row) if row else None


def get(db: Database, customization_id: str, owner: str | None = None) -> Customization | None:
    """The customization; with `owner`, only if that app owns it (others see nothing)."""
    with db.read() as conn:
        found = get_in(conn, customization_id)
    return found if found and (owner is None or found.app_id == owner) else None


def create(db: Database, clock: Clock, app_id: str, values: dict[str, Any]) -> Customization:
    now = clock.now()
    row = {"id": new_id("cz"), "app_id": app_id, "created_at": now, "updated_at": now, **{k: values.get(k) for k in FIELDS}}
    row["colors"], row["dark_colors"] = row["colors"] or {}, row["dark_colors"] or {}
    with db.write() as conn:
        conn.execute(insert(customizations), row)
        return get_in(conn, row["id"])  # type: ignore[return-value]


def replace(db: Database, clock: Clock, customization_id: str, owner: str, values: dict[str, Any]) -> Customization | None:
    changes = {k: values.get(k) for k in FIELDS}
    changes["colors"], changes["dark_colors"] = changes["colors"] or {}, changes["dark_colors"] or {}
    with db.write() as conn:
        done = conn.execute(update(customizations).where(customizations.c.id == customization_id, customizations.c.app_id == owner)
                            .values(updated_at=clock.now(), **changes))
        return get_in(conn, customization_id) if done.rowcount == 1 else None


def remove(db: Database, customization_id: str, owner: str) -> bool:
    with db.write() as conn:
        done = conn.execute(delete(customizations).where(customizations.c.id == customization_id, customizations.c.app_id == owner))
    return done.rowcount == 1
