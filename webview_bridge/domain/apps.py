"""Registered apps (PROTOCOL §2): what an app is and the rules for registering one."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

ROLES = ("tpp", "bank")
ROLE_CHOICES = {"tpp": frozenset({"tpp"}), "bank": frozenset({"bank"}), "both": frozenset({"tpp", "bank"})}

# Appended to the TPP's redirect URL at the end of a flow (PROTOCOL §6), so never allowed in it.
RESERVED_PARAMETERS = frozenset({"request-id", "token-id", "state", "error", "error_description"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
# Schemes that run code, read local files or are plain web schemes in disguise.
_FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "ftp", "ws", "wss", "mailto", "tel"}
)


@dataclass(frozen=True)
class App:
    id: str
    name: str
    roles: frozenset[str]
    redirect_urls: tuple[str, ...]
    bank_id: str | None
    independent_activation: bool
    embed_origin: str | None
    created_at: datetime

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class AuthenticatedApp:
    """What client authentication learns: who, and with which roles (all the token endpoint needs)."""

    id: str
    roles: frozenset[str]


@lru_cache(maxsize=256)  # asked on every token call and page; a server sees few host names
def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_redirect_url(url: str) -> str:
    """https, loopback-only http, or a private-use scheme; no fragment, no reserved parameter.

    Raises ValueError with a sentence a person can act on.
    """
    if not url or any(ch.isspace() for ch in url) or len(url) > 2000:
        raise ValueError(f"redirect URL {url!r} is empty, too long or contains spaces")
    parts = urlsplit(url)
    scheme = parts.scheme
    if not scheme or not _SCHEME.match(scheme):
        raise ValueError(f"redirect URL {url!r} has no valid scheme")
    if "#" in url:
        raise ValueError(f"redirect URL {url!r} must not have a fragment")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"redirect URL {url!r} must not carry credentials")
    if scheme == "https":
        if not parts.hostname:
            raise ValueError(f"redirect URL {url!r} has no host")
    elif scheme == "http":
        if not is_loopback_host(parts.hostname):
            raise ValueError(f"redirect URL {url!r}: plain http is allowed only on a loopback host; use https")
    elif scheme in _FORBIDDEN_SCHEMES:
        raise ValueError(f"redirect URL {url!r}: the {scheme}: scheme is not allowed")
    elif not (parts.netloc or parts.path):
        raise ValueError(f"redirect URL {url!r} has nothing after its scheme")
    reserved = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)} & RESERVED_PARAMETERS)
    if reserved:
        raise ValueError(f"redirect URL {url!r} uses the reserved parameter {reserved[0]!r}")
    return url


def validate_embed_origin(origin: str) -> str:
    """An origin the pages may be framed by and post events to: scheme://host[:port], nothing more."""
    parts = urlsplit(origin)
    secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname))
    if not secure or not parts.hostname or parts.path not in ("",) or parts.query or parts.fragment or "@" in origin:
        raise ValueError(f"embed origin {origin!r} must look like https://host[:port]")
    return origin


def validate_app_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200 or not name.isprintable():
        raise ValueError("app name must be 1 to 200 printable characters")
    return name
