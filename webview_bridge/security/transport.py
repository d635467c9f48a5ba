"""Whether a request came over https, and so whether plain http is refused and cookies are
Secure (PROTOCOL §2, §6).

Decided from two things only: the public URL the operator configured, and the scheme the ASGI
server put in the request's scope — https when the connection itself was TLS, or when a proxy
listed in forwarded_allow_ips said so in X-Forwarded-Proto (uvicorn's proxy_headers rewrites
the scope for trusted proxies only). Never from the Host header, which any client writes.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from webview_bridge.domain.apps import is_loopback_host


def is_https(public_url: str, scope_scheme: str) -> bool:
    """The request reached us over https: TLS here, a trusted proxy says so, or the public URL is
    https (TLS ends in front of us, on the operator's own network)."""
    return scope_scheme in ("https", "wss") or _scheme(public_url) == "https"


@lru_cache(maxsize=16)  # asked on every token request and page; a server has one public URL
def is_loopback_url(public_url: str) -> bool:
    """A plain-http public URL on a loopback address: a development server only this machine reaches."""
    parts = urlsplit(public_url)
    return parts.scheme.lower() == "http" and is_loopback_host(parts.hostname)


def plain_http_refused(public_url: str, scope_scheme: str) -> bool:
    """Credentials must not travel in clear: plain http is accepted only by a loopback development server."""
    return not is_https(public_url, scope_scheme) and not is_loopback_url(public_url)


def cookie_secure(public_url: str, scope_scheme: str) -> bool:
    """Every cookie is Secure except on a loopback development server reached over plain http."""
    return is_https(public_url, scope_scheme) or not is_loopback_url(public_url)


def _scheme(url: str) -> str:
    return url.partition(":")[0].lower()
