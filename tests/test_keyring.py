import pytest

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
