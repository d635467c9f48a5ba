"""Where each request's consent flow stands (the server side of PROTOCOL §6), and the one read
that gives a page everything: the request, its TPP, the flow, the TPP's theme, and who the
browser's session is.

The bank's consent handle is kept encrypted; the nonce of the bank's return is spent by one
guarded UPDATE, so the return works once, in whichever browser it lands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webview_bridge.clock import Clock
from webview_bridge.domain.apps import App
from webview_bridge.domain.consent import FlowState
from webview_bridge.domain.customers import ClientToken
from webview_bridge.domain.customizations import Customization
from webview_bridge.domain.token_requests import TokenRequest
from webview_bridge.security.keyring import Keyring
from webview_bridge.store import apps, customizations, token_requests
from webview_bridge.store.customers import to_client_token
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import apps as app_table
from webview_bridge.store.schema import client_tokens, consent_flows, customers, web_sessions
from webview_bridge.store.schema import token_requests as token_request_table

# How long a WebView session lives (PROTOCOL §6): a flow takes minutes; the request, 20.
SESSION_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Page:
    """Everything a screen needs, from one read."""

    request: TokenRequest
    tpp: App
    state: FlowState | None
    theme: Customization | None
    session_known: bool  # the browser's session is one this server issued and still knows
    client_token: ClientToken | None  # the hand-off that began this session, if any
    issuing_bank_id: str | None  # that client token's bank app's --bank-id


_FLOW_VALUES = ("bank_id", "bank_nonce", "customer_ref", "customer_id", "session_hash", "bank_handle",
                "finished_session_hash", "updated_at")


def _choose_bank(dialect: Any) -> Prepared:
    """Insert the flow, or start it over: one statement, so two browsers choosing at once both succeed."""
    statement = dialect.insert(consent_flows)
    return Prepared(statement.on_conflict_do_update(
        index_elements=[consent_flows.c.request_id], set_={name: statement.excluded[name] for name in _FLOW_VALUES}))


_CHOOSE_BANK = {"sqlite": _choose_bank(sqlite), "postgresql": _choose_bank(postgresql)}
# (An UPDATE's bind names must not be column names: b_…)
_GO_TO_BANK = Prepared(
    update(consent_flows)
    .where(consent_flows.c.request_id == bindparam("b_request_id"), consent_flows.c.session_hash == bindparam("b_chooser"))
    .values(bank_nonce=bindparam("b_nonce"), bank_handle=bindparam("b_handle"), updated_at=bindparam("b_now"))
)
# Spends a bank return's nonce and reads the handle it opens, in one statement.
_SPEND_NONCE = Prepared(
    update(consent_flows)
    .where(consent_flows.c.request_id == bindparam("b_request_id"), consent_flows.c.bank_nonce == bindparam("b_nonce"))
    .values(bank_nonce=None, updated_at=bindparam("b_now"))
    .returning(consent_flows.c.bank_handle)
)
_FINISH = Prepared(
    update(consent_flows).where(consent_flows.c.request_id == bindparam("b_request_id"))
    .values(finished_session_hash=bindparam("b_session"), updated_at=bindparam("b_now"))
)
_STATE = Prepared(select(consent_flows).where(consent_flows.c.request_id == bindparam("request_id")))

_issuer = app_table.alias("issuer")
# A page's one query: the request, its TPP, the flow so far, and the browser's session with the
# client token (and its customer's client id, and its bank app's bank) it began with.
_PAGE = Prepared(
    select(token_request_table, *apps.app_columns("app__"), *[c.label("flow__" + c.name) for c in consent_flows.c],
           web_sessions.c.created_at.label("session_created_at"),
           *[c.label("ct__" + c.name) for c in client_tokens.c], customers.c.client_id.label("ct__client_id"),
           _issuer.c.bank_id.label("issuer_bank_id"))
    .join(app_table, app_table.c.id == token_request_table.c.app_id)
    .join(consent_flows, consent_flows.c.request_id == token_request_table.c.id, isouter=True)
    .join(web_sessions, web_sessions.c.session_hash == bindparam("session_hash"), isouter=True)
    .join(client_tokens, client_tokens.c.id == web_sessions.c.client_token_id, isouter=True)
    .join(customers, customers.c.id == client_tokens.c.customer_id, isouter=True)
    .join(_issuer, _issuer.c.id == client_tokens.c.bank_app_id, isouter=True)
    .where(token_request_table.c.id == bindparam("request_id"))
)


def _state(row: Any, keyring: Keyring, prefix: str = "") -> FlowState | None:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    if col("request_id") is None:
        return None
    sealed = col("bank_handle")
    at_bank = json.loads(keyring.decrypt(sealed)) if sealed else {}
    return FlowState(
        request_id=col("request_id"), bank_id=col("bank_id"), chooser=col("session_hash"), bank_nonce=col("bank_nonce"),
        bank_handle=at_bank.get("handle"), bank_url=at_bank.get("url"), finished_by=col("finished_session_hash"),
        since=col("updated_at"),
    )


def session_alive(created_at: datetime | None, now: datetime) -> bool:
    return created_at is not None and now - created_at < SESSION_LIFETIME


def load_page(db: Database, keyring: Keyring, clock: Clock, request_id: str, session_hash: str | None) -> Page | None:
    with db.read() as conn:
        row = _PAGE.first(conn, request_id=request_id, session_hash=session_hash or "")
        if row is None:
            return None
        request = token_requests.to_request(row)
        theme_id = request.details.get("customization_id")
        theme = customizations.get_in(conn, theme_id) if theme_id else None
    known = session_alive(row.session_created_at, clock.now())
    token = to_client_token(row, "ct__") if known and row.ct__id is not None else None
    return Page(request, apps.to_app(row, "app__"), _state(row, keyring, "flow__"), theme, known, token,
                row.issuer_bank_id if token else None)


def load(db: Database, keyring: Keyring, request_id: str) -> tuple[TokenRequest, FlowState | None] | None:
    with db.read() as conn:
        request = token_requests.get_in(conn, request_id)
        if request is None:
            return None
        row = _STATE.first(conn, request_id=request_id)
    return request, _state(row, keyring) if row else None


def choose_bank(db: Database, clock: Clock, request_id: str, bank_id: str, chooser: str) -> None:
    """Start (or restart) the flow at a bank: an earlier trip to a bank is forgotten, its return spent."""
    values = {"bank_id": bank_id, "bank_nonce": None, "customer_ref": None, "customer_id": None, "session_hash": chooser,
              "bank_handle": None, "finished_session_hash": None, "updated_at": clock.now()}
    with db.one_statement() as conn:
        _CHOOSE_BANK[db.dialect].run(conn, request_id=request_id, **values)


def go_to_bank(db: Database, clock: Clock, keyring: Keyring, request_id: str, chooser: str, nonce: str, handle: str,
               bank_url: str) -> bool:
    sealed = keyring.encrypt(json.dumps({"handle": handle, "url": bank_url}))
    with db.one_statement() as conn:
        return _GO_TO_BANK.run(conn, b_request_id=request_id, b_chooser=chooser, b_nonce=nonce, b_handle=sealed,
                               b_now=clock.now()) == 1


def take_return(db: Database, clock: Clock, keyring: Keyring, request_id: str, nonce: str) -> str | None:
    """The consent handle of the bank's return carrying `nonce`, spending it: once, whoever asks first."""
    with db.one_statement() as conn:
        row = _SPEND_NONCE.first(conn, b_request_id=request_id, b_nonce=nonce, b_now=clock.now())
    return json.loads(keyring.decrypt(row.bank_handle))["handle"] if row and row.bank_handle else None


def mark_finished(conn: Any, dialect: str, clock: Clock, request_id: str, session: str) -> None:
    """Inside the transaction that decides the request: who finished it (shown the way back),
    even when it ended before any bank was chosen."""
    if _FINISH.run(conn, b_request_id=request_id, b_session=session, b_now=clock.now()) == 0:
        _CHOOSE_BANK[dialect].run(conn, request_id=request_id, bank_id=None, bank_nonce=None, customer_ref=None,
                                  customer_id=None, session_hash=None, bank_handle=None,
                                  finished_session_hash=session, updated_at=clock.now())


class StoredFlows:
    """The consent service's storage (domain.consent.FlowStore) on this database."""

    def __init__(self, db: Database, clock: Clock, keyring: Any) -> None:
        self.db, self.clock = db, clock
        self._keyring = keyring  # a callable: the ring reloads when another instance rotates keys

    async def load(self, request_id: str) -> tuple[TokenRequest, FlowState | None] | None:
        return await self.db.run(load, self.db, self._keyring(), request_id)

    async def choose_bank(self, request_id: str, bank_id: str, chooser: str) -> None:
        await self.db.run(choose_bank, self.db, self.clock, request_id, bank_id, chooser)

    async def go_to_bank(self, request_id: str, chooser: str, nonce: str, handle: str, bank_url: str) -> bool:
        return await self.db.run(go_to_bank, self.db, self.clock, self._keyring(), request_id, chooser, nonce, handle,
                                 bank_url)

    async def take_return(self, request_id: str, nonce: str) -> str | None:
        return await self.db.run(take_return, self.db, self.clock, self._keyring(), request_id, nonce)

    async def approve(self, request_id: str, approval: Any, finished_by: str) -> str | None:
        token = await self.db.run(token_requests.approve, self.db, self.clock, self._keyring(), request_id, approval,
                                  finished_by)
        return token.id if token else None

    async def reject(self, request_id: str, error: str, finished_by: str) -> bool:
        return await self.db.run(token_requests.reject, self.db, self.clock, request_id, error, finished_by)

    async def spend_strong_auth(self, client_token_id: str) -> bool:
        from webview_bridge.store import customers

        return await self.db.run(customers.consume_strong_auth, self.db, self.clock, client_token_id)
