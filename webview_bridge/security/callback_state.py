"""The signed callback state `S` of PROTOCOL §6, made exactly as the protocol spells it, so any
TPP can verify it with its callback secret and itsdangerous."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from itsdangerous import URLSafeTimedSerializer

SALT = "webview-bridge/callback"
DEFAULT_MAX_AGE = 600


def serializer(callback_secrets: Sequence[str]) -> URLSafeTimedSerializer:
    """Oldest first: the last secret signs, every one verifies (itsdangerous's key rotation)."""
    return URLSafeTimedSerializer(
        list(callback_secrets),
        salt=SALT,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )


def sign_callback_state(
    callback_secrets: Sequence[str],
    *,
    app_id: str,
    request_id: str,
    token_id: str | None,
    callback_state: str | None,
    csrf_token_hash: str,
    error: str | None,
    replaces_token_id: str | None = None,
) -> str:
    payload = {
        "app_id": app_id,
        "request_id": request_id,
        "token_id": token_id,
        "callback_state": callback_state,
        "csrf_token_hash": csrf_token_hash,
        "error": error,
    }
    if replaces_token_id is not None:  # re-consent (PROTOCOL §13): only then, so other states keep their shape
        payload["replaces_token_id"] = replaces_token_id
    return serializer(callback_secrets).dumps(payload)


def verify_callback_state(callback_secrets: Sequence[str], state: str, max_age: int = DEFAULT_MAX_AGE) -> dict[str, Any]:
    """Raises itsdangerous.BadSignature (or SignatureExpired, its subclass) when it is not ours or too old."""
    return serializer(callback_secrets).loads(state, max_age=max_age)
