"""The server's secret keys and what is derived from them.

Each use gets its own subkey (HMAC of the purpose under a server key), so a key that leaks
from one use — a session signer, say — says nothing about another.

- Keyed hashes (app secrets, access, refresh and client tokens) use the oldest key still
  listed: those values are 256-bit random, so the key is a pepper against a leaked table,
  and hashes must stay comparable across rotations.
- Encryption at rest (callback secrets) uses Fernet: the newest key encrypts, all decrypt.
- Signers (itsdangerous) get every key, newest last — its convention too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from itsdangerous import URLSafeTimedSerializer


class Keyring:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self.keys: tuple[str, ...] = tuple(keys)
        self._hash_key = self.derive("hash")[0]
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(k)) for k in reversed(self.derive("encrypt"))]
        )

    def derive(self, purpose: str) -> list[bytes]:
        """One 32-byte subkey per server key, oldest first."""
        return [hmac.new(k.encode(), purpose.encode(), hashlib.sha256).digest() for k in self.keys]

    def serializer(self, purpose: str) -> URLSafeTimedSerializer:
        """The one signer for values we hand out and take back (bank state, pending logins…)."""
        return URLSafeTimedSerializer(self.derive(purpose), salt=f"webview-bridge/{purpose}")

    def mac(self, purpose: str, message: str) -> str:
        """A keyed MAC under the newest key, for values checked at once (CSRF tokens)."""
        return hmac.new(self.derive(purpose)[-1], message.encode(), hashlib.sha256).hexdigest()

    def hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Raises KeyError when no key of this ring can open it."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise KeyError("no server key opens this value") from exc

    def reencrypt(self, ciphertext: str) -> str:
        return self._fernet.rotate(ciphertext.encode()).decode()
