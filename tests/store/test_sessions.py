"""A WebView session renewed when the bank's return is accepted: the old value stops working, the
new one works, and a session that began with a bank app's client token keeps it."""

from __future__ import annotations

from datetime import timedelta

from webview_bridge.store import apps as app_store
from webview_bridge.store import customers, sessions


def _client_token(runtime, register_app) -> str:
    bank_app = app_store.get(runtime.db, register_app("bank", name="Bank app", bank_id="sandbox").app_id)
    [(_secret, row)] = customers.issue_tokens(
        runtime.db, runtime.clock, runtime.keyring, bank_app, [{"strong_auth": False, "ttl": timedelta(minutes=10)}],
        lambda conn, index, spec: {"customer_id": None, "pending_client_id": "alice", "activation": "independent"},
    )
    return row["id"]


def test_a_renewed_session_keeps_its_client_token_and_the_old_value_dies(app, register_app, clock):
    runtime = app.state.runtime
    token_id = _client_token(runtime, register_app)
    sessions.issue(runtime.db, clock, "old-hash", token_id)
    clock.advance(minutes=5)

    sessions.renew(runtime.db, clock, "old-hash", "new-hash")

    assert sessions.created_at(runtime.db, "old-hash") is None
    assert sessions.created_at(runtime.db, "new-hash") == clock.now()
    assert customers.session_customer(runtime.db, "new-hash").id == token_id
    assert customers.session_customer(runtime.db, "old-hash") is None


def test_renewing_a_session_we_do_not_know_starts_a_plain_one(app, clock):
    runtime = app.state.runtime
    sessions.renew(runtime.db, clock, "never-issued", "fresh-hash")
    sessions.renew(runtime.db, clock, None, "other-hash")

    assert sessions.created_at(runtime.db, "fresh-hash") == clock.now()
    assert sessions.created_at(runtime.db, "other-hash") == clock.now()
    assert sessions.created_at(runtime.db, "never-issued") is None
    assert customers.session_customer(runtime.db, "fresh-hash") is None
