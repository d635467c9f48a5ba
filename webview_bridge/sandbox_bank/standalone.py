"""The sandbox ASPSP on its own (`webview-bridge sandbox-bank`), for connector work and benchmarks.

Served under /sandbox-bank as when mounted in the main server, so its URLs look the same. With
`client_ca` it requires a TLS client certificate signed by that CA — as a real bank requires the
TPP's QWAC — and refuses the handshake of anyone without one.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from webview_bridge.clock import Clock, SystemClock
from webview_bridge.sandbox_bank.app import sandbox_bank_app
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.security.keyring import Keyring
from webview_bridge.serving import KEEP_ALIVE_SECONDS
from webview_bridge.settings import normalise_database_url
from webview_bridge.store import server_keys
from webview_bridge.store.database import Database

PREFIX = "/sandbox-bank"


def standalone_app(config: SandboxConfig) -> Starlette:
    return Starlette(routes=[Mount(PREFIX, app=sandbox_bank_app(config))])


def shared_secret(db: Database, clock: Clock) -> bytes:
    """The pages' signing key as the main server derives it (app.py) from the server keys kept in
    the database, so every instance on one database, standalone or not, signs alike unconfigured."""
    return Keyring(server_keys.load_or_create(db, clock)).derive("sandbox-bank/pages")[0]


def standalone_server(host: str = "127.0.0.1", port: int = 8090, database_url: str = "sqlite:///webview_bridge.db",
                      public_url: str | None = None, tpp_name: str = "webview-bridge", tls_cert: str | None = None,
                      tls_key: str | None = None, client_ca: str | None = None, validate: bool = False,
                      trusted_key: str | None = None, clock: Clock | None = None,
                      bank: Callable[[str], Any] | None = None, secret: bytes | None = None) -> uvicorn.Server:
    """A configured uvicorn server (not yet running): serve_standalone runs it, tests run it in a thread."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("tls_cert and tls_key go together")
    if client_ca is not None and tls_cert is None:
        raise ValueError("client_ca needs tls_cert and tls_key: client certificates exist only over TLS")
    if bank is None:
        from webview_bridge.banks.directory import load_directory

        bank = load_directory().get
    clock = clock or SystemClock()
    db = Database(normalise_database_url(database_url))
    db.prepare_for_serving()
    scheme = "https" if tls_cert else "http"
    config = SandboxConfig(
        db=db, clock=clock, public_url=public_url or f"{scheme}://{host}:{port}{PREFIX}", bank=bank,
        secret=secret or shared_secret(db, clock), tpp_name=tpp_name, trusted_key=trusted_key, validate=validate,
    )
    tls: dict[str, Any] = {}
    if tls_cert:
        tls = {"ssl_certfile": tls_cert, "ssl_keyfile": tls_key}
    if client_ca:
        tls.update(ssl_cert_reqs=ssl.CERT_REQUIRED, ssl_ca_certs=client_ca)
    return uvicorn.Server(uvicorn.Config(standalone_app(config), host=host, port=port, log_level="info",
                                         lifespan="off", timeout_keep_alive=KEEP_ALIVE_SECONDS, **tls))


def serve_standalone(host: str = "127.0.0.1", port: int = 8090, database_url: str = "sqlite:///webview_bridge.db",
                     public_url: str | None = None, tpp_name: str = "webview-bridge", tls_cert: str | None = None,
                     tls_key: str | None = None, client_ca: str | None = None, validate: bool = False,
                     trusted_key: str | None = None, secret: bytes | None = None) -> None:
    """Runs the sandbox ASPSP until interrupted. `public_url` defaults to this host and port
    under /sandbox-bank; `validate` holds every call to the official file (slower: tests, debugging);
    `secret` defaults to the key the main server derives from the keys in the database (pass
    keyring.derive("sandbox-bank/pages")[0] when the keys come from WEBVIEW_BRIDGE_SECRET_KEYS)."""
    standalone_server(host, port, database_url, public_url, tpp_name, tls_cert, tls_key, client_ca, validate,
                      trusted_key, secret=secret).run()
