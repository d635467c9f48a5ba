"""Customers, their phones, client tokens and hand-off sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from webview_bridge.clock import Clock
from webview_bridge.domain.apps import App
from webview_bridge.domain.customers import ClientToken, customer_id_choices
from webview_bridge.domain.errors import Conflict
from webview_bridge.ids import new_id, new_secret
from webview_bridge.security.keyring import Keyring
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import client_tokens, customer_phones, customers, web_sessions


_ATTEMPTS = 3


@dataclass(frozen=True)
class CustomerSpec:
    client_id: str
    phones: list[tuple[str, bool]]  # (hash, primary)


def _customer_id(conn: Connection, keyring: Keyring, bank_app: App, client_id: str) -> str:
    """The id for a new customer of `bank_app`: the bank-wide one unless another bank app holds it."""
    shared, own = customer_id_choices(keyring.hash, bank_app.id, bank_app.bank_id, client_id)
    holder = conn.execute(select(customers.c.bank_app_id).where(customers.c.id == shared)).scalar()
    return shared if holder is None or holder == bank_app.id else own


def upsert(db: Database, clock: Clock, keyring: Keyring, bank_app: App, specs: list[CustomerSpec]) -> tuple[int, int]:
    """Create or update the bank's customers, all or nothing; their phone lists are replaced."""
    for attempt in range(_ATTEMPTS):
        try:
            return _upsert(db, clock, keyring, bank_app, specs)
        except IntegrityError:
            # A concurrent batch (this app's, or another app's of the same bank) inserted a row
            # between our look-ups and our inserts: redo the work from what is there now. One that
            # keeps failing is no race but a bug, and is not dressed up as a conflict.
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _upsert(db: Database, clock: Clock, keyring: Keyring, bank_app: App, specs: list[CustomerSpec]) -> tuple[int, int]:
    now = clock.now()
    created = updated = 0
    batch_owner: dict[str, int] = {}
    with db.write() as conn:
        for i, spec in enumerate(specs):
            row = conn.execute(select(customers.c.id).where(
                customers.c.bank_app_id == bank_app.id, customers.c.client_id == spec.client_id)).first()
            customer_id = row.id if row else _customer_id(conn, keyring, bank_app, spec.client_id)
            for j, (hash_, _) in enumerate(spec.phones):
                where = f"customers[{i}].phones[{j}].hash"
                if batch_owner.setdefault(hash_, i) != i:
                    raise Conflict("phone_hash_in_use", "this phone is given to two customers in the batch", where)
                owner = conn.execute(select(customer_phones.c.customer_id).where(
                    customer_phones.c.bank_app_id == bank_app.id, customer_phones.c.phone_hash == hash_)).scalar()
                if owner is not None and owner != customer_id:
                    raise Conflict("phone_hash_in_use", "this phone belongs to another customer of the bank", where)
            if row:
                conn.execute(update(customers).where(customers.c.id == customer_id).values(updated_at=now))
                updated += 1
            else:
                conn.execute(insert(customers).values(id=customer_id, bank_app_id=bank_app.id, client_id=spec.client_id,
                                                      activation="preloaded", created_at=now, updated_at=now))
                created += 1
            conn.execute(delete(customer_phones).where(customer_phones.c.customer_id == customer_id))
            for hash_, primary in spec.phones:
                conn.execute(insert(customer_phones).values(bank_app_id=bank_app.id, phone_hash=hash_,
                                                            customer_id=customer_id, is_primary=primary))
    return created, updated


def resolve(conn: Connection, bank_app_id: str, *, phone_hashes: list[str] | None = None,
            client_id: str | None = None) -> list[tuple[str, str | None]]:
    """The (customer id, client id) pairs of this bank's customers that match."""
    if client_id is not None:
        condition = and_(customers.c.bank_app_id == bank_app_id, customers.c.client_id == client_id)
        query = select(customers.c.id, customers.c.client_id).where(condition)
    else:
        query = (select(customers.c.id, customers.c.client_id).distinct()
                 .join(customer_phones, customer_phones.c.customer_id == customers.c.id)
                 .where(customer_phones.c.bank_app_id == bank_app_id, customer_phones.c.phone_hash.in_(phone_hashes or [])))
    return [(r.id, r.client_id) for r in conn.execute(query)]


def issue_tokens(db: Database, clock: Clock, keyring: Keyring, bank_app: App, wanted: list[dict[str, Any]],
                 resolver: Any) -> list[tuple[str, dict[str, Any]]]:
    """Issue client tokens, all or nothing. `resolver(conn, index, spec)` returns the row fields
    that name the customer (or raises Invalid naming the element)."""
    now = clock.now()
    issued = []
    with db.write() as conn:
        for index, spec in enumerate(wanted):
            who = resolver(conn, index, spec)
            secret = new_secret()
            row = {"id": new_id("ct"), "token_hash": keyring.hash(secret), "bank_app_id": bank_app.id,
                   "strong_auth": spec["strong_auth"], "created_at": now, "expires_at": now + spec["ttl"],
                   "used_at": None, **who}
            conn.execute(insert(client_tokens).values(**row))
            issued.append((secret, row))
    return issued


def to_client_token(row: Any, prefix: str = "") -> ClientToken:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    return ClientToken(id=col("id"), bank_app_id=col("bank_app_id"), customer_id=col("customer_id"),
                       customer_ref=col("client_id") if col("customer_id") else col("pending_client_id"),
                       activation=col("activation"), strong_auth=col("strong_auth"), expires_at=col("expires_at"),
                       used_at=col("used_at"))


_TOKEN_WITH_CLIENT_ID = (select(client_tokens, customers.c.client_id)
                         .join(customers, customers.c.id == client_tokens.c.customer_id, isouter=True))
_TOKEN_BY_HASH = Prepared(_TOKEN_WITH_CLIENT_ID.where(client_tokens.c.token_hash == bindparam("token_hash")))
_TOKEN_BY_SESSION = Prepared(
    _TOKEN_WITH_CLIENT_ID.join(web_sessions, web_sessions.c.client_token_id == client_tokens.c.id)
    .where(web_sessions.c.session_hash == bindparam("session_hash"))
)
_SPEND_STRONG_AUTH = Prepared(
    update(client_tokens)
    .where(client_tokens.c.id == bindparam("b_id"), client_tokens.c.strong_auth.is_(True),
           client_tokens.c.used_at.is_(None))
    .values(used_at=bindparam("b_now"))
)


def find_token(db: Database, keyring: Keyring, secret: str) -> ClientToken | None:
    with db.read() as conn:
        row = _TOKEN_BY_HASH.first(conn, token_hash=keyring.hash(secret))
    return to_client_token(row) if row else None


def consume_strong_auth(db: Database, clock: Clock, token_id: str) -> bool:
    """Spend a strong-auth token's one login skip; False if it was spent already."""
    with db.write() as conn:
        return _SPEND_STRONG_AUTH.run(conn, b_id=token_id, b_now=clock.now()) == 1


def activate(db: Database, clock: Clock, keyring: Keyring, bank_app: App, token_id: str) -> tuple[str, bool]:
    """Make the customer a `required` token names; (customer id, True) if made now, False if it was active."""
    now = clock.now()
    with db.write() as conn:
        row = conn.execute(select(client_tokens).where(client_tokens.c.id == token_id)).one()
        if row.customer_id is not None:
            return row.customer_id, False
        client_id = row.pending_client_id
        existing = resolve(conn, bank_app.id, client_id=client_id) if client_id else []
        if existing:
            customer_id = existing[0][0]
        else:
            customer_id = _customer_id(conn, keyring, bank_app, client_id) if client_id else new_id("cus")
            conn.execute(insert(customers).values(id=customer_id, bank_app_id=bank_app.id, client_id=client_id,
                                                  activation="independent", created_at=now, updated_at=now))
            for hash_, primary in row.pending_phones or []:
                taken = conn.execute(select(customer_phones.c.customer_id).where(
                    customer_phones.c.bank_app_id == bank_app.id, customer_phones.c.phone_hash == hash_)).scalar()
                if taken is None:
                    conn.execute(insert(customer_phones).values(bank_app_id=bank_app.id, phone_hash=hash_,
                                                                customer_id=customer_id, is_primary=primary))
        won = conn.execute(update(client_tokens).where(client_tokens.c.id == token_id, client_tokens.c.customer_id.is_(None))
                           .values(customer_id=customer_id, activation="independent"))
        if won.rowcount != 1:  # a concurrent activation got there first: keep its customer, drop ours
            raise _ActivationRace()
    return customer_id, True


class _ActivationRace(Exception):
    pass


def activate_once(db: Database, clock: Clock, keyring: Keyring, bank_app: App, token_id: str) -> tuple[str, bool]:
    """activate(), where losing a race to a concurrent activation means it is already active."""
    try:
        return activate(db, clock, keyring, bank_app, token_id)
    except (_ActivationRace, IntegrityError):
        return activate(db, clock, keyring, bank_app, token_id)


def session_customer(db: Database, session_hash: str) -> ClientToken | None:
    """The client token a WebView session began with, if it began with one."""
    with db.read() as conn:
        row = _TOKEN_BY_SESSION.first(conn, session_hash=session_hash)
    return to_client_token(row) if row else None


def customer_id_of(db: Database, bank_app_id: str, client_id: str) -> str | None:
    """The customer a bank app preloaded (or activated) under its client id; None for anyone else's."""
    with db.read() as conn:
        return conn.execute(select(customers.c.id).where(customers.c.bank_app_id == bank_app_id,
                                                         customers.c.client_id == client_id)).scalar()
