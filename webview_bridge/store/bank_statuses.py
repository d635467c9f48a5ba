"""Each bank's last seen status, so a change (an operator puts a bank into maintenance in the
directory file) is told once as bank.status_changed — by the one instance whose update changed it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update

from webview_bridge.banks.directory import Bank
from webview_bridge.clock import Clock
from webview_bridge.store import events
from webview_bridge.store.database import Database
from webview_bridge.store.schema import apps, bank_statuses


def record(db: Database, clock: Clock, banks: Iterable[Bank]) -> list[str]:
    """Store the directory's statuses; the ids of banks whose status changed (each told to every TPP)."""
    changed = []
    now = clock.now()
    with db.write() as conn:
        known = {row.bank_id: row.status for row in conn.execute(select(bank_statuses)).all()}
        tpps = None
        for bank in banks:
            if bank.id not in known:
                conn.execute(insert(bank_statuses).values(bank_id=bank.id, status=bank.status, updated_at=now))
                continue
            if known[bank.id] == bank.status:
                continue
            won = conn.execute(update(bank_statuses).where(bank_statuses.c.bank_id == bank.id,
                                                           bank_statuses.c.status != bank.status)
                               .values(status=bank.status, updated_at=now)).rowcount
            if won != 1:
                continue
            if tpps is None:
                tpps = [row.id for row in conn.execute(select(apps.c.id, apps.c.roles)).all()
                        if "tpp" in row.roles.split()]
            for app_id in tpps:
                events.emit(conn, clock, app_id, "bank.status_changed", {"bank_id": bank.id, "status": bank.status},
                            ordering=f"bank:{bank.id}")
            changed.append(bank.id)
    return changed
