import pytest
from itsdangerous import BadSignature

from webview_bridge.security.keyring import Keyring


def test_keyed_hash_is_stable_and_depends_on_the_key():
    ring = Keyring(["k" * 32])
    assert ring.hash("secret") == ring.hash("secret")
    assert len(ring.hash("secret")) == 64
    assert ring.hash("secret") != Keyring(["z" * 32]).hash("secret")


def test_hashes_survive_adding_a_newer_key():
    assert Keyring(["k" * 32]).hash("s") == Keyring(["k" * 32, "n" * 32]).hash("s")


def test_encryption_rotates_newest_encrypts_all_decrypt():
    old = Keyring(["k" * 32])
    sealed = old.encrypt("callback-secret")
    assert "callback-secret" not in sealed
    rotated = Keyring(["k" * 32, "n" * 32])
    assert rotated.decrypt(sealed) == "callback-secret"
    resealed = rotated.reencrypt(sealed)
    assert Keyring(["n" * 32]).decrypt(resealed) == "callback-secret"
    with pytest.raises(KeyError):
        old.decrypt(resealed)


def test_a_value_once_opened_opens_only_for_its_ring_and_only_untampered():
    ring = Keyring(["k" * 32])
    sealed = ring.encrypt("callback-secret")
    assert ring.decrypt(sealed) == ring.decrypt(sealed) == "callback-secret"
    with pytest.raises(KeyError):
        Keyring(["z" * 32]).decrypt(sealed)
    with pytest.raises(KeyError):
        ring.decrypt(sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1])


def test_signers_and_subkeys_differ_by_purpose():
    ring = Keyring(["k" * 32])
    assert ring.derive("a") != ring.derive("b")
    token = ring.serializer("a").dumps({"n": 1})
    assert ring.serializer("a").loads(token) == {"n": 1}
    with pytest.raises(BadSignature):
        ring.serializer("b").loads(token)
