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
        # A ring never changes (a rotation builds a new one), so what it derives is worked out once.
        self._derived: dict[str, tuple[bytes, ...]] = {}
        self._serializers: dict[str, URLSafeTimedSerializer] = {}
        self._opened: dict[str, str] = {}
        self._hash_key = self.derive("hash")[0]
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(k)) for k in reversed(self.derive("encrypt"))]
        )

    def derive(self, purpose: str) -> tuple[bytes, ...]:
        """One 32-byte subkey per server key, oldest first."""
        derived = self._derived.get(purpose)
        if derived is None:
            derived = self._derived[purpose] = tuple(
                hmac.new(k.encode(), purpose.encode(), hashlib.sha256).digest() for k in self.keys
            )
        return derived

    def serializer(self, purpose: str) -> URLSafeTimedSerializer:
        """The one signer for values we hand out and take back (bank state, pending logins…)."""
        signer = self._serializers.get(purpose)
        if signer is None:
            signer = self._serializers[purpose] = URLSafeTimedSerializer(
                list(self.derive(purpose)), salt=f"webview-bridge/{purpose}"
            )
        return signer

    def mac(self, purpose: str, message: str) -> str:
        """A keyed MAC under the newest key, for values checked at once (CSRF tokens)."""
        return hmac.new(self.derive(purpose)[-1], message.encode(), hashlib.sha256).hexdigest()

    def hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Raises KeyError when no key of this ring can open it. What it opened is remembered
        (a callback secret is opened on every flow's way back; the ring's keys, in the same memory,
        open them all anyway)."""
        opened = self._opened.get(ciphertext)
        if opened is None:
            try:
                opened = self._fernet.decrypt(ciphertext.encode()).decode()
            except InvalidToken as exc:
                raise KeyError("no server key opens this value") from exc
            if len(self._opened) >= 1024:
                self._opened.clear()
            self._opened[ciphertext] = opened
        return opened

    def reencrypt(self, ciphertext: str) -> str:
        return self._fernet.rotate(ciphertext.encode()).decode()
