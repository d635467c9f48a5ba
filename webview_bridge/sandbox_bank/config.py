"""What the sandbox ASPSP needs from whoever runs it: the main server (mounted at /sandbox-bank)
or `webview-bridge sandbox-bank` on its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webview_bridge.clock import Clock
from webview_bridge.store.database import Database


@dataclass(frozen=True)
class SandboxConfig:
    db: Database
    clock: Clock
    # Where browsers reach this app, e.g. http://127.0.0.1:8000/sandbox-bank: every _links href
    # and page URL is built from it, absolute, as a bank behind its own host name would.
    public_url: str
    # bank(bank_id) -> an object with the directory's attributes, or None for an unknown bank.
    bank: Callable[[str], Any]
    secret: bytes  # signs the pages' CSRF tokens; every instance on one database needs the same
    tpp_name: str  # who holds the connector's certificate: named on the bank's consent page
    trusted_key: str | None = None  # enables the sandbox-only trusted API when set
    validate: bool = False  # hold every request and answer to the official Berlin Group file
    page_size: int = 50
    max_login_failures: int = 5

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"public_url must be an absolute http(s) URL without query: {self.public_url!r}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if self.page_size < 1 or self.max_login_failures < 1:
            raise ValueError("page_size and max_login_failures must be at least 1")
        if len(self.secret) < 16:
            raise ValueError("secret must be at least 16 bytes")

    @property
    def path_prefix(self) -> str:
        """The path part of public_url ("/sandbox-bank"): cookies are scoped under it."""
        return urlsplit(self.public_url).path

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"
