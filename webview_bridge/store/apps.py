"""Apps and their callback secrets. Secrets leave this module only at creation or rotation."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, literal, select, update

from webview_bridge.clock import Clock
from webview_bridge.domain.apps import App, AuthenticatedApp
from webview_bridge.ids import new_id, new_secret
from webview_bridge.security.keyring import Keyring
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import apps, callback_secrets


@dataclass(frozen=True)
class NewAppCredentials:
    app_id: str
    app_secret: str
    callback_secret: str


def to_app(row: Any, prefix: str = "") -> App:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    return App(
        id=col("id"),
        name=col("name"),
        roles=frozenset(col("roles").split()),
        redirect_urls=tuple(col("redirect_urls")),
        bank_id=col("bank_id"),
        independent_activation=col("independent_activation"),
        embed_origin=col("embed_origin"),
        created_at=col("created_at"),
    )


_APP_COLUMNS = [c for c in apps.c if c.name != "secret_hash"]


def app_columns(prefix: str) -> list[Any]:
    """The app's public columns labelled with a prefix, for joins."""
    return [c.label(prefix + c.name) for c in _APP_COLUMNS]


def create(
    db: Database,
    keyring: Keyring,
    clock: Clock,
    *,
    name: str,
    roles: frozenset[str],
    redirect_urls: tuple[str, ...] = (),
    bank_id: str | None = None,
    independent_activation: bool = False,
    embed_origin: str | None = None,
) -> NewAppCredentials:
    app_id, app_secret, callback_secret = new_id("app"), new_secret(), new_secret()
    now = clock.now()
    with db.write() as conn:
        conn.execute(
            insert(apps).values(
                id=app_id,
                name=name,
                roles=" ".join(sorted(roles)),
                secret_hash=keyring.hash(app_secret),
                redirect_urls=list(redirect_urls),
                bank_id=bank_id,
                independent_activation=independent_activation,
                embed_origin=embed_origin,
                created_at=now,
            )
        )
        _add_callback_secret(conn, keyring, app_id, callback_secret, clock)
    return NewAppCredentials(app_id, app_secret, callback_secret)


_GET = Prepared(select(*_APP_COLUMNS).where(apps.c.id == bindparam("app_id")))


def get_in(conn: Connection, app_id: str) -> App | None:
    row = _GET.first(conn, app_id=app_id)
    return to_app(row) if row else None


def get(db: Database, app_id: str) -> App | None:
    with db.read() as conn:
        return get_in(conn, app_id)


def list_all(db: Database) -> list[App]:
    with db.read() as conn:
        return [to_app(r) for r in conn.execute(select(*_APP_COLUMNS).order_by(apps.c.created_at, apps.c.id))]


# Stands in for the secret hash of an app id that does not exist: the same length as a real one,
# and never equal to one (a hex digest has no "x"), so comparing against it fails like a wrong secret.
UNKNOWN_APP_SECRET_HASH = "x" * 64


def _column_of_app(column: Any) -> Any:
    return select(column).where(apps.c.id == bindparam("app_id")).scalar_subquery()


# The token endpoint's hot path: always exactly one row of two plain strings (roles NULL for an
# unknown id), so an unknown id takes the same statement, the same row reading and the same
# comparison as a wrong secret. Cheaper than reading the whole app, which it does not need.
_CREDENTIALS = Prepared(select(
    func.coalesce(_column_of_app(apps.c.secret_hash), literal(UNKNOWN_APP_SECRET_HASH)).label("secret_hash"),
    _column_of_app(apps.c.roles).label("roles"),
))


def authenticate_client(db: Database, keyring: Keyring, app_id: str, app_secret: str) -> AuthenticatedApp | None:
    """The app and its roles, if `app_secret` is its current secret. Until the secret has matched,
    an unknown id does exactly the work a wrong secret does, so neither answer nor timing tells
    whether an app exists."""
    presented = keyring.hash(app_secret)
    with db.read() as conn:
        row = _CREDENTIALS.first(conn, app_id=app_id)
    if not hmac.compare_digest(row.secret_hash, presented):
        return None
    return AuthenticatedApp(app_id, frozenset(row.roles.split()))


def authenticate(db: Database, keyring: Keyring, app_id: str, app_secret: str) -> App | None:
    """The whole app, if `app_secret` is its current secret."""
    return get(db, app_id) if authenticate_client(db, keyring, app_id, app_secret) else None


def rotate_secret(db: Database, keyring: Keyring, app_id: str) -> str | None:
    secret = new_secret()
    with db.write() as conn:
        done = conn.execute(update(apps).where(apps.c.id == app_id).values(secret_hash=keyring.hash(secret)))
    return secret if done.rowcount == 1 else None


def set_redirect_urls(db: Database, app_id: str, redirect_urls: tuple[str, ...]) -> None:
    with db.write() as conn:
        conn.execute(update(apps).where(apps.c.id == app_id).values(redirect_urls=list(redirect_urls)))


def rotate_callback_secret(
    db: Database, keyring: Keyring, clock: Clock, app_id: str, *, retire_old: bool = False
) -> str | None:
    """Add a newer callback secret (it signs from now on); older ones verify until retired."""
    secret = new_secret()
    with db.write() as conn:
        if conn.execute(select(apps.c.id).where(apps.c.id == app_id)).first() is None:
            return None
        if retire_old:
            conn.execute(update(callback_secrets).where(callback_secrets.c.app_id == app_id).values(retired=True))
        _add_callback_secret(conn, keyring, app_id, secret, clock)
    return secret


def callback_secret_list(db: Database, keyring: Keyring, app_id: str) -> list[str]:
    """The app's live callback secrets, oldest first: the last one signs, all verify."""
    with db.read() as conn:
        rows = _LIVE_CALLBACK_SECRETS.all(conn, app_id=app_id)
    return [keyring.decrypt(r.ciphertext) for r in rows]


_LIVE_CALLBACK_SECRETS = Prepared(
    select(callback_secrets.c.ciphertext)
    .where(callback_secrets.c.app_id == bindparam("app_id"), callback_secrets.c.retired.is_(False))
    .order_by(callback_secrets.c.id)
)


def _add_callback_secret(conn: Connection, keyring: Keyring, app_id: str, secret: str, clock: Clock) -> None:
    conn.execute(
        insert(callback_secrets).values(
            app_id=app_id, ciphertext=keyring.encrypt(secret), created_at=clock.now(), retired=False
        )
    )
