"""Consent flow state: which bank, whether the bank authenticated the customer, and for which browser."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webview_bridge.clock import Clock
from webview_bridge.domain.apps import App
from webview_bridge.domain.token_requests import TokenRequest
from webview_bridge.domain.customizations import Customization
from webview_bridge.store import apps, customizations, token_requests
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import apps as app_table
from webview_bridge.store.schema import consent_flows
from webview_bridge.store.schema import token_requests as token_request_table


@dataclass(frozen=True)
class Flow:
    request_id: str
    bank_id: str | None
    customer_ref: str | None
    customer_id: str | None
    session_hash: str | None
    bank_nonce: str | None

    def authenticated_for(self, session_hash: str | None) -> bool:
        return self.customer_ref is not None and session_hash is not None and self.session_hash == session_hash


_FLOW_VALUES = ("bank_id", "bank_nonce", "customer_ref", "customer_id", "session_hash", "updated_at")


def _choose_bank(dialect: Any) -> Prepared:
    """Insert the flow, or start it over: one statement, so two browsers choosing at once both succeed."""
    statement = dialect.insert(consent_flows)
    return Prepared(statement.on_conflict_do_update(
        index_elements=[consent_flows.c.request_id], set_={name: statement.excluded[name] for name in _FLOW_VALUES}))


_CHOOSE_BANK = {"sqlite": _choose_bank(sqlite), "postgresql": _choose_bank(postgresql)}
# (An UPDATE's bind names must not be column names: b_…)
_COMPLETE = Prepared(
    update(consent_flows)
    .where(consent_flows.c.request_id == bindparam("b_request_id"), consent_flows.c.bank_nonce == bindparam("b_nonce"))
    .values(bank_nonce=None, customer_ref=bindparam("b_customer_ref"), customer_id=bindparam("b_customer_id"),
            session_hash=bindparam("b_session_hash"), updated_at=bindparam("b_now"))
)
_SPEND_NONCE = Prepared(
    update(consent_flows)
    .where(consent_flows.c.request_id == bindparam("b_request_id"), consent_flows.c.bank_nonce == bindparam("b_nonce"))
    .values(bank_nonce=None, updated_at=bindparam("b_now"))
)


def _to_flow(row: Any, prefix: str = "") -> Flow | None:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    if col("request_id") is None:
        return None
    return Flow(col("request_id"), col("bank_id"), col("customer_ref"), col("customer_id"), col("session_hash"),
                col("bank_nonce"))


# A page's one query: the request, its TPP and the flow so far.
_PAGE = Prepared(
    select(token_request_table, *apps.app_columns("app__"), *[c.label("flow__" + c.name) for c in consent_flows.c])
    .join(app_table, app_table.c.id == token_request_table.c.app_id)
    .join(consent_flows, consent_flows.c.request_id == token_request_table.c.id, isouter=True)
    .where(token_request_table.c.id == bindparam("request_id"))
)


def load(db: Database, request_id: str) -> tuple[TokenRequest, App, Flow | None, Customization | None] | None:
    """Everything a page needs about a request, in one read: the request, its TPP, the flow so
    far, and the TPP's theme for it."""
    with db.read() as conn:
        row = _PAGE.first(conn, request_id=request_id)
        if row is None:
            return None
        token_request = token_requests.to_request(row)
        theme_id = token_request.details.get("customization_id")
        theme = customizations.get_in(conn, theme_id) if theme_id else None
        return token_request, apps.to_app(row, "app__"), _to_flow(row, "flow__"), theme


def choose_bank(db: Database, clock: Clock, request_id: str, bank_id: str) -> str:
    """Start (or restart) bank authorisation; returns the nonce the bank must hand back, once.

    Choosing again forgets an earlier bank login: the consent always names the bank just used.
    """
    nonce = secrets.token_urlsafe(24)
    values = {"bank_id": bank_id, "bank_nonce": nonce, "customer_ref": None, "customer_id": None,
              "session_hash": None, "updated_at": clock.now()}
    with db.write() as conn:
        _CHOOSE_BANK[db.dialect].run(conn, request_id=request_id, **values)
    return nonce


def complete_bank_auth(
    db: Database, clock: Clock, request_id: str, nonce: str, *, customer_ref: str, customer_id: str, session_hash: str
) -> bool:
    """Record the bank's answer if it carries the current nonce, and spend the nonce."""
    with db.write() as conn:
        return _COMPLETE.run(conn, b_request_id=request_id, b_nonce=nonce, b_customer_ref=customer_ref,
                             b_customer_id=customer_id, b_session_hash=session_hash, b_now=clock.now()) == 1


def spend_nonce(db: Database, clock: Clock, request_id: str, nonce: str) -> bool:
    """The bank came back with an error: the nonce is spent all the same."""
    with db.write() as conn:
        return _SPEND_NONCE.run(conn, b_request_id=request_id, b_nonce=nonce, b_now=clock.now()) == 1
