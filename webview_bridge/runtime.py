"""What every handler needs: settings, the clock, the database and the server keys."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread

from webview_bridge.banks.connector import BankConnector
from webview_bridge.banks.sandbox import SandboxConnector
from webview_bridge.clock import Clock, SystemClock
from webview_bridge.ratelimit import Limits, RateLimiter
from webview_bridge.security.keyring import Keyring
from webview_bridge.settings import Settings
from webview_bridge.store import apps as app_store
from webview_bridge.store import server_keys
from webview_bridge.store.database import Database


# How stale this instance's copy of the database's server keys may get after another instance ran
# `keys rotate`: signatures made with a new key verify everywhere within this long.
KEY_REFRESH = timedelta(seconds=60)

T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    _ring: Keyring
    connector: BankConnector = field(default_factory=SandboxConnector)
    limiter: RateLimiter | None = None
    _ring_loaded: datetime | None = None
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keyring(self) -> Keyring:
        if not self.settings.secret_keys and (
            self._ring_loaded is None or self.clock.now() - self._ring_loaded >= KEY_REFRESH
        ):
            self.reload_keys()
        return self._ring

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> Runtime:
        clock = clock or SystemClock()
        db = Database(settings.database_url)
        if migrate:
            db.prepare_for_serving()
        else:
            db.ping()
        keyring = Keyring(_load_keys(settings, db, clock))
        connector = SandboxConnector(settings.base_url, keyring.derive("sandbox-bank"))
        limits = Limits(token=settings.rate_limit_token, api=settings.rate_limit_api, pages=settings.rate_limit_pages)
        return cls(settings, clock, db, keyring, connector, RateLimiter(db, limits), clock.now())

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

    async def ask_bank(self, call: Callable[..., T], *args: Any) -> T:
        """A call to the bank connector: in a worker thread when it waits on a bank's network,
        right here when it only computes (the sandbox bank)."""
        if self.connector.blocking:
            return await anyio.to_thread.run_sync(partial(call, *args))
        return call(*args)

    async def over_limit(self, kind: str, key: str) -> int | None:
        """Seconds to wait when `key` has used up its `kind` limit this minute (else None)."""
        return await self.limiter.check(kind, key, self.clock.now()) if self.limiter else None

    def close(self) -> None:
        self.db.dispose()


def _load_keys(settings: Settings, db: Database, clock: Clock) -> tuple[str, ...]:
    if settings.secret_keys:
        return settings.secret_keys
    return server_keys.load_or_create(db, clock)
