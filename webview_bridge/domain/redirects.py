"""The way back to the TPP (PROTOCOL §6): reserved parameters appended to the registered URL."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

# Endings other than a granted token, as they appear in `error=`.
ENDINGS = ("access_denied", "request_expired", "bank_unavailable", "server_error")


def tpp_redirect(registered_url: str, params: Mapping[str, str | None]) -> str:
    """Append form-encoded parameters after any the URL already has; same for https and app schemes.

    Plain string work on purpose: urllib's URL parsing would normalise private-use schemes
    (`com.example.app:/cb`) and the URL must reach the TPP exactly as registered.
    """
    query = urlencode([(k, v) for k, v in params.items() if v is not None])
    if "?" not in registered_url:
        return f"{registered_url}?{query}"
    if registered_url.endswith(("?", "&")):
        return registered_url + query
    return f"{registered_url}&{query}"
