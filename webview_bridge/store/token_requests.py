"""Token requests, and the one transaction that turns a request into a token."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from webview_bridge.clock import Clock
from webview_bridge.domain.consent import Approval
from webview_bridge.domain.token_requests import LIFETIME, TokenRequest
from webview_bridge.domain.tokens import Token
from webview_bridge.ids import new_id
from webview_bridge.security.keyring import Keyring
from webview_bridge.domain.webhooks import expiry_notices
from webview_bridge.store import events, flows, outbox
from webview_bridge.store import tokens as token_store
from webview_bridge.store.database import Database
from webview_bridge.store.prepared import Prepared
from webview_bridge.store.schema import token_requests, tokens
from webview_bridge.store.tokens import to_token

REQUEST_EXPIRY = "token_request.expiry"
TOKEN_NOTICE = "token.notice"
_BY_ID = Prepared(select(token_requests).where(token_requests.c.id == bindparam("request_id")))
_INSERT = Prepared(insert(token_requests))
_INSERT_TOKEN = Prepared(insert(tokens))
# The guarded UPDATEs that decide a request: only a PENDING (and, to approve, unexpired) one changes,
# and it comes back as it now is, so the transaction needs no second read of it.
# (An UPDATE's bind names must not be column names: b_…)
_APPROVE = Prepared(
    update(token_requests)
    .where(token_requests.c.id == bindparam("b_id"), token_requests.c.status == "PENDING",
           token_requests.c.expires_at > bindparam("b_now"))
    .values(status="PROCESSED", token_id=bindparam("b_token_id"), decided_at=bindparam("b_now"))
    .returning(*token_requests.c)
)
_REJECT = Prepared(
    update(token_requests)
    .where(token_requests.c.id == bindparam("b_id"), token_requests.c.status == "PENDING")
    .values(status="REJECTED", error=bindparam("b_error"), decided_at=bindparam("b_now"))
    .returning(*token_requests.c)
)


def to_request(row: Any) -> TokenRequest:
    return TokenRequest(
        id=row.id, app_id=row.app_id, status=row.status, created_at=row.created_at, expires_at=row.expires_at,
        csrf_token_hash=row.csrf_token_hash, details=row.details, token_id=row.token_id, error=row.error,
    )


def create(db: Database, clock: Clock, app_id: str, csrf_token_hash: str, details: dict[str, Any]) -> TokenRequest:
    now = clock.now()
    row = {
        "id": new_id("rq"), "app_id": app_id, "status": "PENDING", "created_at": now, "expires_at": now + LIFETIME,
        "csrf_token_hash": csrf_token_hash, "details": details, "token_id": None, "error": None, "decided_at": None,
    }
    with db.write() as conn:
        _INSERT.run(conn, **row)
        # If nobody decides it, its expiry is told (token_request.expired) when it falls due.
        outbox.enqueue(conn, clock, REQUEST_EXPIRY, {"request_id": row["id"]}, due_at=row["expires_at"])
    return to_request(SimpleNamespace(**row))


def get_in(conn: Connection, request_id: str) -> TokenRequest | None:
    row = _BY_ID.first(conn, request_id=request_id)
    return to_request(row) if row else None


def get(db: Database, request_id: str) -> TokenRequest | None:
    with db.read() as conn:
        return get_in(conn, request_id)


def approve(db: Database, clock: Clock, keyring: Keyring, request_id: str, approval: Approval, finished_by: str) -> Token | None:
    """Make the token for a PENDING, unexpired request; None if it was decided or expired already.

    The guarded UPDATE is the lock: of concurrent approvals exactly one changes the row. The bank's
    consent is kept encrypted beside the token.
    """
    if not approval.account_ids:
        raise ValueError("a token needs at least one account")
    now = clock.now()
    token_id = new_id("tt")
    with db.write() as conn:
        decided = _APPROVE.first(conn, b_id=request_id, b_now=now, b_token_id=token_id)
        if decided is None:
            return None
        request = to_request(decided)
        row = {
            "id": token_id, "request_id": request_id, "app_id": request.app_id, "customer_id": approval.customer_id,
            "customer_ref": approval.customer_ref, "bank_id": approval.bank_id, "resources": list(request.resources),
            "account_ids": list(dict.fromkeys(approval.account_ids)), "status": "ACTIVE", "created_at": now,
            "expires_at": now + timedelta(days=request.details["token_expiration_days"]), "cancelled_at": None,
            "bank_consent": keyring.encrypt(approval.credentials), "bank_user": approval.bank_user,
            "accounts": [{"id": i, "name": n} for i, n in approval.account_names if i in approval.account_ids],
            "replaces_token_id": approval.replaces_token_id,
        }
        _INSERT_TOKEN.run(conn, **row)
        flows.mark_finished(conn, db.dialect, clock, request_id, finished_by)
        if approval.replaces_token_id:  # re-consent: the old token ends as the new one begins
            token_store.cancel_in(conn, clock, approval.replaces_token_id)
        events.emit(conn, clock, request.app_id, "token_request.processed",
                    {"request_id": request_id, "token_id": token_id,
                     **({"replaces_token_id": approval.replaces_token_id} if approval.replaces_token_id else {})},
                    ordering=request_id)
        for kind, due in expiry_notices(row["expires_at"], now):
            outbox.enqueue(conn, clock, TOKEN_NOTICE, {"token_id": token_id, "kind": kind}, due_at=due)
    return to_token(SimpleNamespace(**row))


def reject(db: Database, clock: Clock, request_id: str, error: str, finished_by: str | None = None) -> bool:
    """End a PENDING request without a token (denied, bank unavailable…); False if already decided."""
    now = clock.now()
    with db.write() as conn:
        decided = _REJECT.first(conn, b_id=request_id, b_error=error, b_now=now)
        if decided is None:
            return False
        if finished_by is not None:
            flows.mark_finished(conn, db.dialect, clock, request_id, finished_by)
        request = to_request(decided)
        events.emit(conn, clock, request.app_id, "token_request.rejected", {"request_id": request_id, "error": error},
                    ordering=request_id)
    return True


def tell_expiry(db: Database, clock: Clock, request_id: str) -> bool:
    """token_request.expired, if the request is still undecided now that its time is up."""
    with db.write() as conn:
        request = get_in(conn, request_id)
        if request is None or request.status_at(clock.now()) != "EXPIRED":
            return False
        events.emit(conn, clock, request.app_id, "token_request.expired", {"request_id": request_id},
                    ordering=request_id)
    return True
