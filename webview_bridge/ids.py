"""The one id and secret generator: random, URL-safe, prefixed (PROTOCOL §1)."""

import secrets

ID_BYTES = 16  # 128 bits
SECRET_BYTES = 32  # 256 bits


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(ID_BYTES)}"


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)
