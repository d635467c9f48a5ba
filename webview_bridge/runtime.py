"""What every handler needs, made once per process and passed to it: settings, the clock, the
database, the server keys, the banks, the consent service, the page templates and the worker's wake-up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.templating import Jinja2Templates

from webview_bridge.banks.directory import Directory, load_directory
from webview_bridge.banks.registry import Banks
from webview_bridge.banks.xs2a.mapping import our_account_id
from webview_bridge.clock import Clock, SystemClock
from webview_bridge.domain.consent import ConsentService
from webview_bridge.domain.redirects import tpp_redirect
from webview_bridge.domain.token_requests import LIFETIME, TokenRequest
from webview_bridge.ratelimit import Limits, RateLimiter
from webview_bridge.rendering import make_templates
from webview_bridge.security.callback_state import sign_callback_state
from webview_bridge.security.keyring import Keyring
from webview_bridge.settings import Settings
from webview_bridge.store import apps as app_store
from webview_bridge.store import server_keys
from webview_bridge.store.bank_cache import AnswerCache
from webview_bridge.store.database import Database
from webview_bridge.store.flows import StoredFlows

if TYPE_CHECKING:
    from webview_bridge.oauth.server import BridgeAuthorizationServer

# How stale this instance's copy of the database's server keys may get after another instance ran
# `keys rotate`: signatures made with a new key verify everywhere within this long.
KEY_REFRESH = timedelta(seconds=60)
BANK_STATE = "bank-state"
# A constant, not a path built from the route's name: banks are told this return address when the
# trip starts, with no request at hand, and it is the route's own path in the route table.
BANK_CALLBACK = "/app/bank-callback"


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    _ring: Keyring
    directory: Directory
    limiter: RateLimiter | None = None
    _ring_loaded: datetime | None = None
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)
    banks: Banks = field(init=False)
    consent: ConsentService = field(init=False)
    # Made by create_app beside this runtime: the worker's wake-up (work just enqueued is done at
    # once) and the OAuth authorization server.
    wake_worker: Callable[[], None] = lambda: None
    oauth_server: BridgeAuthorizationServer | None = None
    # Worked out once and kept: the directory, the templates and the route table are fixed while serving.
    offered: dict[Any, Any] = field(default_factory=dict)
    fragments: dict[Any, Any] = field(default_factory=dict)
    openapi: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.banks = Banks(
            self.directory, base_url=self.settings.internal_url,
            account_id=lambda bank_id, resource_id: our_account_id(self._ring.hash, bank_id, resource_id),
            now=self.clock.now, trusted_key=self.sandbox_trusted_key,
            cache=AnswerCache(self.db, lambda: self.keyring, self.clock, timedelta(seconds=self.settings.bank_cache_seconds)),
        )
        self.consent = ConsentService(
            StoredFlows(self.db, self.clock, lambda: self.keyring), self.banks, self.way_back, now=self.clock.now,
            return_url=self.bank_return_url, keyed_hash=lambda value: self.keyring.hash(value),
        )

    @cached_property
    def templates(self) -> Jinja2Templates:
        return make_templates(self.settings.templates_dir)

    @property
    def keyring(self) -> Keyring:
        if not self.settings.secret_keys and (
            self._ring_loaded is None or self.clock.now() - self._ring_loaded >= KEY_REFRESH
        ):
            self.reload_keys()
        return self._ring

    @property
    def sandbox_trusted_key(self) -> str:
        """What this server's own sandbox bank takes as proof of the trusted capability: derived
        from the oldest server key, so rotation does not change it and every instance agrees."""
        return self._ring.derive("sandbox-bank/trusted")[0].hex()

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None, *, migrate: bool = True,
             directory: Directory | None = None) -> Runtime:
        clock = clock or SystemClock()
        directory = directory or load_directory(settings.banks_file)
        db = Database(settings.database_url)
        if migrate:
            db.prepare_for_serving()
        else:
            db.ping()
        keyring = Keyring(_load_keys(settings, db, clock))
        limits = Limits(token=settings.rate_limit_token, api=settings.rate_limit_api, pages=settings.rate_limit_pages)
        return cls(settings, clock, db, keyring, directory, RateLimiter(db, limits), clock.now())

    def reload_keys(self) -> None:
        """Another instance may have run `keys rotate`: pick up the keys it added."""
        with self._reload_lock:
            self._ring = Keyring(_load_keys(self.settings, self.db, self.clock))
            self._ring_loaded = self.clock.now()

    def callback_secrets(self, app_id: str) -> list[str]:
        try:
            return app_store.callback_secret_list(self.db, self.keyring, app_id)
        except KeyError:
            self.reload_keys()
            return app_store.callback_secret_list(self.db, self._ring, app_id)

    async def way_back(self, request: TokenRequest, *, token_id: str | None = None, error: str | None = None) -> str:
        """The TPP's redirect URL with request-id, token-id or error, and the signed state (PROTOCOL §6)."""
        secrets = await self.db.run(self.callback_secrets, request.app_id)
        state = sign_callback_state(
            secrets, app_id=request.app_id, request_id=request.id, token_id=token_id,
            callback_state=request.details.get("callback_state"), csrf_token_hash=request.csrf_token_hash, error=error,
            replaces_token_id=request.details.get("replaces_token_id"),
        )
        return tpp_redirect(request.redirect_url, {"request-id": request.id, "token-id": token_id, "error": error,
                                                   "state": state})

    def bank_return_url(self, request_id: str, nonce: str) -> str:
        """Where the bank sends the customer back: our own signed state names the request and the
        nonce of this trip to the bank, so the return works once, in whichever browser it lands."""
        state = self.keyring.serializer(BANK_STATE).dumps({"rq": request_id, "n": nonce})
        return f"{self.settings.base_url}{BANK_CALLBACK}?state={state}"

    def read_bank_return(self, state: str) -> tuple[str, str] | None:
        """(request id, nonce) from a bank return's state, or None when it is not ours or too old."""
        from itsdangerous import BadSignature

        try:
            signed = self.keyring.serializer(BANK_STATE).loads(state, max_age=int(LIFETIME.total_seconds()))
            return str(signed["rq"]), str(signed["n"])
        except (BadSignature, KeyError, TypeError):
            return None

    async def over_limit(self, kind: str, key: str) -> int | None:
        """Seconds to wait when `key` has used up its `kind` limit this minute (else None)."""
        return await self.limiter.check(kind, key, self.clock.now()) if self.limiter else None

    async def aclose(self) -> None:
        await self.banks.aclose()

    def close(self) -> None:
        self.db.dispose()


def _load_keys(settings: Settings, db: Database, clock: Clock) -> tuple[str, ...]:
    if settings.secret_keys:
        return settings.secret_keys
    return server_keys.load_or_create(db, clock)
