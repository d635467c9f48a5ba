"""The sandbox bank's storage: consents, their SCA redirects, failed logins and usage counters.

Each function is one transaction (run it with `await db.run(fn, db, ...)`). Status changes read
the row FOR UPDATE and decide through the rules in consents.py, so two instances (or two browser
tabs) racing on one consent cannot both move it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webview_bridge.ids import new_secret
from webview_bridge.sandbox_bank.consents import RECEIVED, VALID, Consent, ConsentRequest
from webview_bridge.sandbox_bank.errors import Refusal
from webview_bridge.sandbox_bank.schema import (
    sandbox_bank_authorisations as authorisations,
    sandbox_bank_consents as consents,
    sandbox_bank_login_failures as login_failures,
    sandbox_bank_usage as usage,
)
from webview_bridge.store.database import Database


def link_hash(link: str) -> str:
    """Only the hash of a page link is kept: a copy of the table opens no one's login."""
    return hashlib.sha256(link.encode()).hexdigest()


@dataclass(frozen=True)
class Authorisation:
    link_hash: str
    consent_id: str
    step: str  # login | otp | consent | done
    browser_hash: str | None
    psu_id: str | None
    failures: int
    expires_at: datetime


def _consent(row: Row[Any]) -> Consent:
    return Consent(
        id=row.id, bank_id=row.bank_id, status=row.status, access=row.access, recurring=row.recurring,
        valid_until=row.valid_until, frequency_per_day=row.frequency_per_day, redirect_uri=row.redirect_uri,
        nok_redirect_uri=row.nok_redirect_uri, tpp_brand=row.tpp_brand, psu_id=row.psu_id,
        accounts=tuple(row.accounts or ()), created_at=row.created_at, status_changed_at=row.status_changed_at,
    )


def create_consent(db: Database, *, bank_id: str, request: ConsentRequest, redirect_uri: str,
                   nok_redirect_uri: str | None, tpp_brand: str | None, now: datetime,
                   authorisation_expires_at: datetime) -> tuple[str, str]:
    """A received consent and its SCA redirect; returns (consentId, page link token)."""
    consent_id, link = new_secret(), new_secret()
    with db.write() as conn:
        conn.execute(insert(consents).values(
            id=consent_id, bank_id=bank_id, status=RECEIVED, access=request.access, recurring=request.recurring,
            valid_until=request.valid_until, frequency_per_day=request.frequency_per_day, redirect_uri=redirect_uri,
            nok_redirect_uri=nok_redirect_uri, tpp_brand=tpp_brand, psu_id=None, accounts=None, created_at=now,
            status_changed_at=now,
        ))
        conn.execute(insert(authorisations).values(
            link_hash=link_hash(link), consent_id=consent_id, step="login", browser_hash=None, psu_id=None, failures=0,
            expires_at=authorisation_expires_at,
        ))
    return consent_id, link


def create_valid_consent(db: Database, *, bank_id: str, psu_id: str, request: ConsentRequest,
                         accounts: list[str], now: datetime) -> str:
    """A consent granted without a bank page (the trusted API)."""
    consent_id = new_secret()
    with db.write() as conn:
        conn.execute(insert(consents).values(
            id=consent_id, bank_id=bank_id, status=VALID, access=request.access, recurring=request.recurring,
            valid_until=request.valid_until, frequency_per_day=request.frequency_per_day, redirect_uri=None,
            nok_redirect_uri=None, tpp_brand=None, psu_id=psu_id, accounts=accounts, created_at=now, status_changed_at=now,
        ))
    return consent_id


def get_consent(db: Database, bank_id: str, consent_id: str) -> Consent | None:
    with db.read() as conn:
        row = conn.execute(select(consents).where(consents.c.id == consent_id, consents.c.bank_id == bank_id)).first()
    return _consent(row) if row else None


def change_status(db: Database, bank_id: str, consent_id: str, rule: Callable[[str], str], today: date,
                  now: datetime) -> Consent | None:
    """Applies a lifecycle rule to the consent's current status; None for an unknown consent.
    The rule's Refusal passes through and nothing changes."""
    with db.write() as conn:
        row = conn.execute(select(consents).where(consents.c.id == consent_id, consents.c.bank_id == bank_id)
                           .with_for_update()).first()
        if row is None:
            return None
        consent = _consent(row)
        status = rule(consent.status_on(today))
        if status != consent.status:
            conn.execute(update(consents).where(consents.c.id == consent_id)
                         .values(status=status, status_changed_at=now))
            row = conn.execute(select(consents).where(consents.c.id == consent_id)).one()
    return _consent(row)


# --- the SCA redirect -----------------------------------------------------------------------

def find_authorisation(db: Database, link: str) -> tuple[Authorisation, Consent] | None:
    with db.read() as conn:
        row = conn.execute(select(authorisations).where(authorisations.c.link_hash == link_hash(link))).first()
        if row is None:
            return None
        consent = conn.execute(select(consents).where(consents.c.id == row.consent_id)).one()
    return Authorisation(row.link_hash, row.consent_id, row.step, row.browser_hash, row.psu_id, row.failures,
                         row.expires_at), _consent(consent)


def bind_browser(db: Database, hashed_link: str, browser_hash: str) -> bool:
    """The first browser to open the link owns it; False when another got there first."""
    with db.write() as conn:
        changed = conn.execute(update(authorisations).where(
            authorisations.c.link_hash == hashed_link, authorisations.c.browser_hash.is_(None),
        ).values(browser_hash=browser_hash)).rowcount
    return changed == 1


def advance(db: Database, hashed_link: str, from_step: str, to_step: str, psu_id: str) -> bool:
    """Moves a step on (password right → one-time code or consent); False if it had moved already."""
    with db.write() as conn:
        changed = conn.execute(update(authorisations).where(
            authorisations.c.link_hash == hashed_link, authorisations.c.step == from_step,
        ).values(step=to_step, psu_id=psu_id)).rowcount
    return changed == 1


def record_failure(db: Database, hashed_link: str, bank_id: str, username: str | None, now: datetime,
                   window_start: datetime) -> int:
    """Counts a wrong password or code against the authorisation (and the user name, when given,
    dropping that user's failures older than the window); returns the authorisation's failures."""
    with db.write() as conn:
        conn.execute(update(authorisations).where(authorisations.c.link_hash == hashed_link)
                     .values(failures=authorisations.c.failures + 1))
        if username is not None:
            conn.execute(delete(login_failures).where(
                login_failures.c.bank_id == bank_id, login_failures.c.username == username,
                login_failures.c.failed_at < window_start))
            conn.execute(insert(login_failures).values(bank_id=bank_id, username=username, failed_at=now))
        return conn.execute(select(authorisations.c.failures)
                            .where(authorisations.c.link_hash == hashed_link)).scalar_one()


def recent_failures(db: Database, bank_id: str, username: str, since: datetime) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(login_failures).where(
            login_failures.c.bank_id == bank_id, login_failures.c.username == username,
            login_failures.c.failed_at >= since)).scalar_one()


Finished = Literal["finished", "already_finished", "consent_closed"]


def finish(db: Database, hashed_link: str, from_step: str, rule: Callable[[str], str], *, today: date,
           now: datetime, psu_id: str | None = None, accounts: list[str] | None = None) -> tuple[Finished, Consent | None]:
    """Ends the authorisation (once: a replay finds it done) and moves its consent by `rule`.
    A consent that stopped awaiting authorisation meanwhile (deleted, expired) stays as it is."""
    with db.write() as conn:
        done = conn.execute(update(authorisations).where(
            authorisations.c.link_hash == hashed_link, authorisations.c.step == from_step,
        ).values(step="done")).rowcount
        if done != 1:
            return "already_finished", None
        consent_id = conn.execute(select(authorisations.c.consent_id)
                                  .where(authorisations.c.link_hash == hashed_link)).scalar_one()
        row = conn.execute(select(consents).where(consents.c.id == consent_id).with_for_update()).one()
        consent = _consent(row)
        try:
            status = rule(consent.status_on(today))
        except Refusal:
            return "consent_closed", consent
        values: dict[str, Any] = {"status": status, "status_changed_at": now}
        if psu_id is not None:
            values["psu_id"] = psu_id
        if accounts:
            values["accounts"] = accounts
        conn.execute(update(consents).where(consents.c.id == consent_id).values(**values))
        row = conn.execute(select(consents).where(consents.c.id == consent_id)).one()
    return "finished", _consent(row)


# --- frequencyPerDay ------------------------------------------------------------------------

def bump_usage(db: Database, consent_id: str, resource: str, day: date) -> int:
    """One more call today; returns today's count, this call included. One statement, so
    instances counting at once on PostgreSQL never lose a call."""
    dialect_insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(usage).values(consent_id=consent_id, resource=resource, day=day, calls=1)
    statement = statement.on_conflict_do_update(
        index_elements=[usage.c.consent_id, usage.c.resource, usage.c.day],
        set_={"calls": usage.c.calls + 1},
    ).returning(usage.c.calls)
    with db.write() as conn:
        return conn.execute(statement).scalar_one()


def known_psus(db: Database, bank_id: str) -> list[str]:
    """Customers who have authorised a consent at this bank (funds confirmation without a consent)."""
    with db.read() as conn:
        return list(conn.execute(select(consents.c.psu_id).where(
            consents.c.bank_id == bank_id, consents.c.psu_id.is_not(None)).distinct().order_by(consents.c.psu_id)).scalars())
