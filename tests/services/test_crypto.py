"""The encryption module: AES-256-GCM with the key's id in each header, bound to its context;
keys from the environment (a fixed development key only in development and tests)."""
from __future__ import annotations

import base64
import os

import pytest

from config import ConfigError
from crm import create_app
from crm.services import crypto


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


NEW, OLD = os.urandom(32), os.urandom(32)


def ring(current: bytes, *old: bytes, env: str = "production") -> crypto.Keyring:
    return crypto.build_keyring({"ENV_NAME": env, "ENCRYPTION_KEY": b64(current),
                                 "ENCRYPTION_OLD_KEYS": ",".join(b64(key) for key in old)})


def test_bytes_and_text_go_round_and_never_show_their_plaintext():
    keys = ring(NEW)
    blob = crypto.encrypt(b"%PDF-1.4 ECHO-REPORT-7731", "documents/ab", keys=keys)
    assert b"ECHO-REPORT" not in blob and crypto.is_encrypted(blob)
    assert crypto.decrypt(blob, "documents/ab", keys=keys) == b"%PDF-1.4 ECHO-REPORT-7731"
    token = crypto.encrypt_text("K12345678", "travel_plans.passport_number", keys=keys)
    assert token.startswith("enc1:") and "K12345678" not in token
    assert crypto.decrypt_text(token, "travel_plans.passport_number", keys=keys) == "K12345678"
    # a random nonce: the same value twice gives two ciphertexts
    assert crypto.encrypt_text("K12345678", "x", keys=keys) != crypto.encrypt_text("K12345678", "x", keys=keys)


def test_a_ciphertext_moved_to_another_context_or_altered_does_not_decrypt():
    keys = ring(NEW)
    blob = crypto.encrypt(b"scan", "documents/aaaa", keys=keys)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, "documents/bbbb", keys=keys)
    altered = bytearray(blob)
    altered[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(altered), "documents/aaaa", keys=keys)
    # the key id in the header is authenticated too: changed, it names no key (or the wrong one)
    relabelled = bytearray(blob)
    relabelled[5] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(relabelled), "documents/aaaa", keys=keys)


def test_old_keys_decrypt_and_only_the_current_one_encrypts():
    old = crypto.encrypt(b"before rotation", "c", keys=ring(OLD))
    rotated = ring(NEW, OLD)
    assert crypto.key_id(old) == crypto.key_id_of(OLD).hex() != rotated.current.hex_id
    assert crypto.decrypt(old, "c", keys=rotated) == b"before rotation"
    assert not crypto.is_current(old, keys=rotated)
    fresh = crypto.encrypt(b"after", "c", keys=rotated)
    assert crypto.key_id(fresh) == rotated.current.hex_id and crypto.is_current(fresh, keys=rotated)
    with pytest.raises(crypto.DecryptionError, match="CRM_ENCRYPTION_OLD_KEYS"):
        crypto.decrypt(old, "c", keys=ring(NEW))  # the old key dropped too soon: said so


def test_plaintext_from_before_encryption_is_read_as_it_is():
    keys = ring(NEW)
    assert crypto.decrypt_or_plain(b"%PDF-1.4 old", "c", keys=keys) == b"%PDF-1.4 old"
    assert crypto.decrypt_text_or_plain("K12345678", "c", keys=keys) == "K12345678"


@pytest.mark.parametrize("value, words", [
    ("", "is not set"), ("not base64 at all!", "is not base64"), (b64(os.urandom(16)), "16 bytes, not 32"),
    (b64(crypto.DEVELOPMENT_KEY), "development key"),
])
def test_production_refuses_to_start_without_a_usable_key(monkeypatch, value, words):
    monkeypatch.setenv("CRM_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("CRM_ENCRYPTION_KEY", value)
    with pytest.raises(ConfigError, match="CRM_ENCRYPTION_KEY") as refused:
        create_app("production")
    assert words in str(refused.value)
    monkeypatch.setenv("CRM_ENCRYPTION_KEY", b64(NEW).rstrip("="))  # unpadded and URL-safe are fine
    monkeypatch.setenv("CRM_ENCRYPTION_OLD_KEYS", "nonsense")
    with pytest.raises(ConfigError, match="CRM_ENCRYPTION_OLD_KEYS"):
        create_app("production")
    monkeypatch.setenv("CRM_ENCRYPTION_OLD_KEYS", f"{b64(OLD)} {base64.urlsafe_b64encode(os.urandom(32)).decode()}")
    app = create_app("production")
    with app.app_context():
        keys = crypto.keyring()
    assert not keys.is_development and keys.current.hex_id == crypto.key_id_of(NEW).hex() and len(keys.by_id) == 3


def test_development_and_tests_use_the_marked_development_key(monkeypatch):
    monkeypatch.delenv("CRM_ENCRYPTION_KEY", raising=False)
    for env in ("development", "testing"):
        with create_app(env).app_context():
            keys = crypto.keyring()
        assert keys.is_development and keys.current.hex_id == crypto.key_id_of(crypto.DEVELOPMENT_KEY).hex()
    assert crypto.uses_development_key({"ENCRYPTION_KEY": None})
    assert not crypto.uses_development_key({"ENCRYPTION_KEY": b64(NEW)})
