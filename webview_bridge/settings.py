"""One frozen settings object, from flags, else environment (PROTOCOL §10)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "WEBVIEW_BRIDGE_"
DEFAULT_DATABASE_URL = "sqlite:///webview_bridge.db"


class SettingsError(ValueError):
    """A setting that cannot work; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    public_url: str | None = None
    # Newest last. None: generated on first start and kept in the database.
    secret_keys: tuple[str, ...] | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    templates_dir: Path | None = None
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    max_body_bytes: int = 1024 * 1024
    # Proxies whose X-Forwarded-Proto/For are believed (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"
    # Served at /.well-known/ so the bank's return URL can be a claimed link into the host app.
    apple_app_site_association: str | None = None
    assetlinks: str | None = None
    # Requests per minute (PROTOCOL §1); 0 turns one off. Failures: failed client authentications at
    # /oauth/token and /oauth/revoke, per app id and client address.
    rate_limit_token_failures: int = 300
    rate_limit_token: int = 300
    rate_limit_api: int = 1200
    rate_limit_pages: int = 60
    # The bank directory file (PROTOCOL §4); None: the built-in sandbox banks.
    banks_file: Path | None = None
    # How long a token's bank answers are kept (PROTOCOL §7): a quarter of a day by default.
    bank_cache_seconds: int = 21_600
    # Who runs this server, as banks' own consent pages name the holder of its certificate.
    operator_name: str = "webview-bridge"
    # Webhook retries: first after this many seconds, then doubling, capped at an hour (PROTOCOL §12).
    webhook_retry_base_seconds: int = 30
    # Run the background worker (outbox: bank consents to end, webhooks). Tests drive it by hand.
    worker: bool = True
    # Hold the built-in sandbox bank's every request and answer to the Berlin Group file (slower; tests).
    sandbox_validate: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """Where browsers and TPPs reach this server; URLs we hand out start with it."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def internal_url(self) -> str:
        """Where this process itself listens: how it reaches its own sandbox bank, whatever proxy is in front."""
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def normalise_database_url(raw: str) -> str:
    """Accept SQLAlchemy URLs and plain postgresql:// ones; map PostgreSQL to the psycopg 3 driver."""
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise SettingsError(f"database URL {raw!r} is not a URL (try sqlite:///file.db or postgresql://user:pass@host/db)")
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise SettingsError(f"database URL driver {url.drivername!r} is not supported; use sqlite:///file.db")
        return url.render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise SettingsError(f"database URL driver {url.drivername!r} is not supported; use postgresql://")
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise SettingsError(f"database URL scheme {backend!r} is not supported; use sqlite:/// or postgresql://")


def parse_secret_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if not keys:
        raise SettingsError(f"{ENV_PREFIX}SECRET_KEYS is set but holds no key")
    for key in keys:
        if len(key) < 32:
            raise SettingsError(f"{ENV_PREFIX}SECRET_KEYS: every key needs at least 32 characters")
    return keys


def _int_env(env: Mapping[str, str], name: str, default: int, allow_zero: bool = False) -> int:
    raw = env.get(ENV_PREFIX + name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise SettingsError(f"{ENV_PREFIX}{name} must be positive")
    return value


def _json_setting(env: Mapping[str, str], name: str) -> str | None:
    """A JSON document given inline or as the path of a file holding it; checked now, served as is."""
    raw = env.get(ENV_PREFIX + name)
    if not raw:
        return None
    text = raw if raw.lstrip().startswith(("{", "[")) else None
    if text is None:
        try:
            text = Path(raw).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"{ENV_PREFIX}{name}: cannot read {raw!r} ({exc.strerror})")
    try:
        json.loads(text)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} is not valid JSON")
    return text


def settings_from_env(env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
    """Flags win over the environment, which wins over the defaults."""
    env = os.environ if env is None else env
    keys_raw = env.get(ENV_PREFIX + "SECRET_KEYS")
    base = Settings(
        database_url=env.get(ENV_PREFIX + "DATABASE_URL", DEFAULT_DATABASE_URL),
        public_url=env.get(ENV_PREFIX + "PUBLIC_URL") or None,
        secret_keys=parse_secret_keys(keys_raw) if keys_raw is not None else None,
        access_token_ttl_seconds=_int_env(env, "ACCESS_TOKEN_TTL", 3600),
        refresh_token_ttl_seconds=_int_env(env, "REFRESH_TOKEN_TTL", 30 * 24 * 3600),
        forwarded_allow_ips=env.get(ENV_PREFIX + "FORWARDED_ALLOW_IPS", "127.0.0.1"),
        rate_limit_token_failures=_int_env(env, "RATE_LIMIT_TOKEN_FAILURES", 300, allow_zero=True),
        rate_limit_token=_int_env(env, "RATE_LIMIT_TOKEN", 300, allow_zero=True),
        rate_limit_api=_int_env(env, "RATE_LIMIT_API", 1200, allow_zero=True),
        rate_limit_pages=_int_env(env, "RATE_LIMIT_PAGES", 60, allow_zero=True),
        banks_file=Path(env[ENV_PREFIX + "BANKS"]) if env.get(ENV_PREFIX + "BANKS") else None,
        bank_cache_seconds=_int_env(env, "BANK_CACHE_SECONDS", 21_600, allow_zero=True),
        webhook_retry_base_seconds=_int_env(env, "WEBHOOK_RETRY_BASE_SECONDS", 30),
        worker=env.get(ENV_PREFIX + "WORKER", "1") not in ("0", "false", "no"),
        sandbox_validate=env.get(ENV_PREFIX + "SANDBOX_VALIDATE", "") in ("1", "true", "yes"),
        operator_name=(env.get(ENV_PREFIX + "OPERATOR_NAME") or "webview-bridge").strip()[:100] or "webview-bridge",
        apple_app_site_association=_json_setting(env, "APPLE_APP_SITE_ASSOCIATION"),
        assetlinks=_json_setting(env, "ASSETLINKS"),
    )
    settings = base.with_overrides(**flags)
    settings = replace(settings, database_url=normalise_database_url(settings.database_url))
    if settings.public_url is not None and not settings.public_url.startswith(("http://", "https://")):
        raise SettingsError(f"public URL {settings.public_url!r} must start with http:// or https://")
    if settings.templates_dir is not None and not Path(settings.templates_dir).is_dir():
        raise SettingsError(f"templates folder {str(settings.templates_dir)!r} does not exist")
    return settings
