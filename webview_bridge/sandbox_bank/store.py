"""The sandbox bank's storage: consents, their SCA redirects, failed logins and usage counters.

Each function is one transaction (run it with `await db.run(fn, db, ...)`). Status changes read
the row FOR UPDATE and decide through the rules in consents.py, so two instances (or two browser
tabs) racing on one consent cannot both move it. The statements every flow runs are prepared once
(store/prepared.py): the sandbox bank answers a test suite's and a benchmark's every call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, insert, select, update
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
from webview_bridge.store.prepared import Prepared


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


def _consent(row: Any, prefix: str = "") -> Consent:
    value = {name: getattr(row, prefix + name) for name in consents.c.keys()}
    return Consent(**{**value, "accounts": tuple(value["accounts"] or ())})


# (An UPDATE's bind names must not be column names: b_…)
_INSERT_CONSENT = Prepared(insert(consents))
_INSERT_AUTHORISATION = Prepared(insert(authorisations))
_CONSENT = Prepared(select(consents).where(consents.c.id == bindparam("consent_id"),
                                           consents.c.bank_id == bindparam("bank_id")))
_CONSENT_FOR_UPDATE = Prepared(select(consents).where(consents.c.id == bindparam("consent_id"),
                                                      consents.c.bank_id == bindparam("bank_id")).with_for_update())
# An authorisation with its consent, in one read.
_AUTHORISATION = Prepared(
    select(authorisations, *[c.label("consent__" + c.name) for c in consents.c])
    .join(consents, consents.c.id == authorisations.c.consent_id)
    .where(authorisations.c.link_hash == bindparam("link_hash"))
)
_BIND_BROWSER = Prepared(update(authorisations).where(
    authorisations.c.link_hash == bindparam("b_link"), authorisations.c.browser_hash.is_(None),
).values(browser_hash=bindparam("b_browser")))
_ADVANCE = Prepared(update(authorisations).where(
    authorisations.c.link_hash == bindparam("b_link"), authorisations.c.step == bindparam("b_from"),
).values(step=bindparam("b_to"), psu_id=bindparam("b_psu_id")))
_RECENT_FAILURES = Prepared(select(func.count().label("failures")).select_from(login_failures).where(
    login_failures.c.bank_id == bindparam("bank_id"), login_failures.c.username == bindparam("username"),
    login_failures.c.failed_at >= bindparam("since")))
# Ends an authorisation once (a replay touches no row) and says which consent it was for.
_END_AUTHORISATION = Prepared(update(authorisations).where(
    authorisations.c.link_hash == bindparam("b_link"), authorisations.c.step == bindparam("b_from"),
).values(step="done").returning(authorisations.c.consent_id))
_CONSENT_BY_ID_FOR_UPDATE = Prepared(select(consents).where(consents.c.id == bindparam("consent_id")).with_for_update())


@cache
def _move_consent(with_psu_id: bool = False, with_accounts: bool = False) -> Prepared:
    """Sets a consent's status (and who authorised it, and which accounts) and returns its row."""
    values: dict[str, Any] = {"status": bindparam("b_status"), "status_changed_at": bindparam("b_now")}
    if with_psu_id:
        values["psu_id"] = bindparam("b_psu_id")
    if with_accounts:
        values["accounts"] = bindparam("b_accounts", type_=consents.c.accounts.type)
    return Prepared(update(consents).where(consents.c.id == bindparam("b_id")).values(**values).returning(*consents.c))


def _count_usage(dialect: Any) -> Prepared:
    statement = dialect.insert(usage)
    return Prepared(statement.on_conflict_do_update(
        index_elements=[usage.c.consent_id, usage.c.resource, usage.c.day], set_={"calls": usage.c.calls + 1},
    ).returning(usage.c.calls))


_COUNT_USAGE = {"sqlite": _count_usage(sqlite), "postgresql": _count_usage(postgresql)}


def create_consent(db: Database, *, bank_id: str, request: ConsentRequest, redirect_uri: str,
                   nok_redirect_uri: str | None, tpp_brand: str | None, now: datetime,
                   authorisation_expires_at: datetime) -> tuple[str, str]:
    """A received consent and its SCA redirect; returns (consentId, page link token)."""
    consent_id, link = new_secret(), new_secret()
    with db.write() as conn:
        _INSERT_CONSENT.run(
            conn, id=consent_id, bank_id=bank_id, status=RECEIVED, access=request.access, recurring=request.recurring,
            valid_until=request.valid_until, frequency_per_day=request.frequency_per_day, redirect_uri=redirect_uri,
            nok_redirect_uri=nok_redirect_uri, tpp_brand=tpp_brand, psu_id=None, accounts=None, created_at=now,
            status_changed_at=now,
        )
        _INSERT_AUTHORISATION.run(
            conn, link_hash=link_hash(link), consent_id=consent_id, step="login", browser_hash=None, psu_id=None,
            failures=0, expires_at=authorisation_expires_at,
        )
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
        row = _CONSENT.first(conn, consent_id=consent_id, bank_id=bank_id)
    return _consent(row) if row else None


def change_status(db: Database, bank_id: str, consent_id: str, rule: Callable[[str], str], today: date,
                  now: datetime) -> Consent | None:
    """Applies a lifecycle rule to the consent's current status; None for an unknown consent.
    The rule's Refusal passes through and nothing changes."""
    with db.write() as conn:
        row = _CONSENT_FOR_UPDATE.first(conn, consent_id=consent_id, bank_id=bank_id)
        if row is None:
            return None
        consent = _consent(row)
        status = rule(consent.status_on(today))
        if status == consent.status:
            return consent
        row = _move_consent().first(conn, b_id=consent_id, b_status=status, b_now=now)
    return _consent(row)


# --- the SCA redirect -----------------------------------------------------------------------

def find_authorisation(db: Database, link: str) -> tuple[Authorisation, Consent] | None:
    with db.read() as conn:
        row = _AUTHORISATION.first(conn, link_hash=link_hash(link))
    if row is None:
        return None
    return Authorisation(row.link_hash, row.consent_id, row.step, row.browser_hash, row.psu_id, row.failures,
                         row.expires_at), _consent(row, "consent__")


def bind_browser(db: Database, hashed_link: str, browser_hash: str) -> bool:
    """The first browser to open the link owns it; False when another got there first."""
    with db.one_statement() as conn:
        return _BIND_BROWSER.run(conn, b_link=hashed_link, b_browser=browser_hash) == 1


def advance(db: Database, hashed_link: str, from_step: str, to_step: str, psu_id: str) -> bool:
    """Moves a step on (password right → one-time code or consent); False if it had moved already."""
    with db.one_statement() as conn:
        return _ADVANCE.run(conn, b_link=hashed_link, b_from=from_step, b_to=to_step, b_psu_id=psu_id) == 1


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
        return int(_RECENT_FAILURES.first(conn, bank_id=bank_id, username=username, since=since).failures)


Finished = Literal["finished", "already_finished", "consent_closed"]


def finish(db: Database, hashed_link: str, from_step: str, rule: Callable[[str], str], *, today: date,
           now: datetime, psu_id: str | None = None, accounts: list[str] | None = None) -> tuple[Finished, Consent | None]:
    """Ends the authorisation (once: a replay finds it done) and moves its consent by `rule`.
    A consent that stopped awaiting authorisation meanwhile (deleted, expired) stays as it is."""
    with db.write() as conn:
        ended = _END_AUTHORISATION.first(conn, b_link=hashed_link, b_from=from_step)
        if ended is None:
            return "already_finished", None
        consent = _consent(_CONSENT_BY_ID_FOR_UPDATE.first(conn, consent_id=ended.consent_id))
        try:
            status = rule(consent.status_on(today))
        except Refusal:
            return "consent_closed", consent
        row = _move_consent(psu_id is not None, bool(accounts)).first(
            conn, b_id=consent.id, b_status=status, b_now=now, b_psu_id=psu_id, b_accounts=accounts)
    return "finished", _consent(row)


# --- frequencyPerDay ------------------------------------------------------------------------

def bump_usage(db: Database, consent_id: str, resource: str, day: date) -> int:
    """One more call today; returns today's count, this call included. One statement, so
    instances counting at once on PostgreSQL never lose a call."""
    with db.one_statement() as conn:
        return int(_COUNT_USAGE[db.dialect].first(conn, consent_id=consent_id, resource=resource, day=day,
                                                  calls=1).calls)


def known_psus(db: Database, bank_id: str) -> list[str]:
    """Customers who have authorised a consent at this bank (funds confirmation without a consent)."""
    with db.read() as conn:
        return list(conn.execute(select(consents.c.psu_id).where(
            consents.c.bank_id == bank_id, consents.c.psu_id.is_not(None)).distinct().order_by(consents.c.psu_id)).scalars())
