"""Encryption at rest: AES-256-GCM in the application, with keys from the environment only.

Every ciphertext starts with a header naming the key it was made with, so that keys can be
rotated: ``CRM_ENCRYPTION_KEY`` encrypts, and it and each of ``CRM_ENCRYPTION_OLD_KEYS`` decrypt.
A *context* (associated data: the table and column, or a stored file's name) binds a ciphertext
to its place: moved to another row or column it no longer decrypts.

Binary layout: ``ITNE`` · version (1) · key id (4 bytes) · nonce (12 random bytes) · ciphertext
with its 16-byte tag; the first 9 bytes and the context are authenticated. Text columns hold
``enc1:`` and that blob in base64. A value without the header is plaintext from before
encryption: read as it is, and encrypted by ``crm keys rotate``.

This module is a leaf (no model, no service): models use its column types.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, Text
from sqlalchemy.types import TypeDecorator

from config import ConfigError

MAGIC = b"ITNE"
VERSION = 1
KEY_ID_SIZE = 4
NONCE_SIZE = 12
TAG_SIZE = 16
#: magic, version and key id: what names the key
PREFIX_SIZE = len(MAGIC) + 1 + KEY_ID_SIZE
HEADER_SIZE = PREFIX_SIZE + NONCE_SIZE
TEXT_PREFIX = "enc1:"
KEY_SIZE = 32

#: Development and tests only, when CRM_ENCRYPTION_KEY is unset: a key anyone can derive.
#: Production refuses it (and refuses to start without CRM_ENCRYPTION_KEY).
DEVELOPMENT_KEY = hashlib.sha256(b"Itinera development encryption key - NOT SECRET - never for patient data").digest()
DEVELOPMENT_ENVS = ("development", "testing")
KEY_HINT = ("base64 of 32 random bytes, e.g. python -c 'import base64, secrets; "
            "print(base64.b64encode(secrets.token_bytes(32)).decode())'")

_EXTENSION = "crm.keyring"


class DecryptionError(ValueError):
    """A ciphertext that cannot be read: its key is not configured, or it was altered or moved."""


@dataclass(frozen=True)
class Key:
    """One AES-256 key and its id (the first bytes of an HMAC of the key: names it, reveals nothing)."""

    id: bytes
    aead: AESGCM = field(repr=False, compare=False)

    @property
    def hex_id(self) -> str:
        return self.id.hex()


@dataclass(frozen=True)
class Keyring:
    """The current key (encrypts and decrypts) and the old ones (decrypt only)."""

    current: Key
    by_id: dict[bytes, Key] = field(repr=False)
    is_development: bool = False

    def key(self, key_id: bytes) -> Key:
        try:
            return self.by_id[key_id]
        except KeyError:
            raise DecryptionError(f"the key {key_id.hex()} is not configured: add it to "
                                  "CRM_ENCRYPTION_OLD_KEYS (or CRM_ENCRYPTION_KEY)") from None


def key_id_of(key: bytes) -> bytes:
    """The id written into each ciphertext made with ``key``."""
    return hmac.new(key, b"itinera key id", hashlib.sha256).digest()[:KEY_ID_SIZE]


def parse_key(value, name: str) -> bytes:
    """A key given as base64 (standard or URL-safe alphabet, padded or not) of exactly 32 bytes."""
    text = str(value).strip() if value is not None else ""
    text = text.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{name} is not base64: use {KEY_HINT}") from None
    if len(key) != KEY_SIZE:
        raise ConfigError(f"{name} holds {len(key)} bytes, not 32: use {KEY_HINT}")
    return key


def _old_keys(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [part for part in str(value).replace(",", " ").split() if part]


def build_keyring(config: Mapping) -> Keyring:
    """The keyring the settings describe; ``ConfigError`` naming the variable when one cannot work.

    Without ``CRM_ENCRYPTION_KEY`` development and tests use ``DEVELOPMENT_KEY``; production
    refuses to start, and refuses the development key if it is given."""
    env = config.get("ENV_NAME")
    raw = config.get("ENCRYPTION_KEY")
    if raw in (None, ""):
        if env not in DEVELOPMENT_ENVS:
            raise ConfigError("CRM_ENCRYPTION_KEY is not set. Production refuses to start without it "
                              f"(documents and passport numbers are encrypted with it): set it to {KEY_HINT}")
        current, is_development = DEVELOPMENT_KEY, True
    else:
        current, is_development = parse_key(raw, "CRM_ENCRYPTION_KEY"), False
    old = [parse_key(value, "CRM_ENCRYPTION_OLD_KEYS") for value in _old_keys(config.get("ENCRYPTION_OLD_KEYS"))]
    if env not in DEVELOPMENT_ENVS and current == DEVELOPMENT_KEY:
        raise ConfigError("CRM_ENCRYPTION_KEY is the development key, which anyone can derive: "
                          f"set it to {KEY_HINT}")
    keys = [current] + [key for key in old if key != current]
    by_id: dict[bytes, Key] = {}
    for key in keys:
        key_id = key_id_of(key)
        if key_id in by_id:  # two different keys with one 4-byte id: vanishingly rare, but never guess
            raise ConfigError("two of the keys in CRM_ENCRYPTION_KEY and CRM_ENCRYPTION_OLD_KEYS share an id: "
                              "replace one of them")
        by_id[key_id] = Key(key_id, AESGCM(key))
    return Keyring(current=by_id[key_id_of(current)], by_id=by_id, is_development=is_development)


def check(config: Mapping) -> None:
    """``ConfigError`` when the encryption settings cannot work (checked when the app is made)."""
    build_keyring(config)


def uses_development_key(config: Mapping) -> bool:
    """Whether these settings encrypt with the derivable development key (no CRM_ENCRYPTION_KEY)."""
    return config.get("ENCRYPTION_KEY") in (None, "") or _maybe(config.get("ENCRYPTION_KEY")) == DEVELOPMENT_KEY


def _maybe(value) -> bytes | None:
    try:
        return parse_key(value, "CRM_ENCRYPTION_KEY")
    except ConfigError:
        return None


def keyring(app=None) -> Keyring:
    """The current app's keyring (built once per settings)."""
    if app is None:
        from flask import current_app
        app = current_app
    config = app.config
    settings = (config.get("ENV_NAME"), config.get("ENCRYPTION_KEY"), repr(config.get("ENCRYPTION_OLD_KEYS")))
    cached = app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != settings:
        cached = (settings, build_keyring(config))
        app.extensions[_EXTENSION] = cached
    return cached[1]


def _context(context: str | bytes) -> bytes:
    return context.encode() if isinstance(context, str) else bytes(context)


# --- bytes -------------------------------------------------------------------------------------

def encrypt(data: bytes, context: str | bytes, *, keys: Keyring | None = None) -> bytes:
    """``data`` encrypted under the current key, bound to ``context`` (e.g. ``documents/<name>``)."""
    keys = keys or keyring()
    prefix = MAGIC + bytes([VERSION]) + keys.current.id
    nonce = os.urandom(NONCE_SIZE)
    return prefix + nonce + keys.current.aead.encrypt(nonce, bytes(data), prefix + b"\0" + _context(context))


def is_encrypted(blob: bytes | None) -> bool:
    """Whether ``blob`` carries this module's header (else it is plaintext from before)."""
    return blob is not None and len(blob) >= HEADER_SIZE + TAG_SIZE and blob[:len(MAGIC)] == MAGIC


def key_id(blob: bytes) -> str | None:
    """The id (hex) of the key ``blob`` was encrypted with; None for plaintext."""
    if not is_encrypted(blob):
        return None
    start = len(MAGIC) + 1
    return blob[start:start + KEY_ID_SIZE].hex()


def is_current(blob: bytes, *, keys: Keyring | None = None) -> bool:
    """Whether ``blob`` is encrypted under the current key (nothing for rotation to do)."""
    keys = keys or keyring()
    return is_encrypted(blob) and key_id(blob) == keys.current.hex_id


def is_current_prefix(prefix: bytes, *, keys: Keyring | None = None) -> bool:
    """Whether the first ``PREFIX_SIZE`` bytes of a value name the current key (version included)."""
    keys = keys or keyring()
    return prefix[:PREFIX_SIZE] == MAGIC + bytes([VERSION]) + keys.current.id


def decrypt(blob: bytes, context: str | bytes, *, keys: Keyring | None = None) -> bytes:
    """The plaintext of ``blob``; ``DecryptionError`` if its key is unknown, it was altered, or it
    belongs to another context."""
    keys = keys or keyring()
    if not is_encrypted(blob):
        raise DecryptionError("not an encrypted value")
    if blob[len(MAGIC)] != VERSION:
        raise DecryptionError(f"unknown ciphertext version {blob[len(MAGIC)]}")
    prefix = blob[:PREFIX_SIZE]
    key = keys.key(prefix[len(MAGIC) + 1:])
    nonce = blob[len(prefix):HEADER_SIZE]
    try:
        return key.aead.decrypt(nonce, blob[HEADER_SIZE:], prefix + b"\0" + _context(context))
    except InvalidTag:
        raise DecryptionError("the value was altered or does not belong here (authentication failed)") from None


def decrypt_or_plain(blob: bytes, context: str | bytes, *, keys: Keyring | None = None) -> bytes:
    """``decrypt``, or ``blob`` itself when it is plaintext from before encryption."""
    return decrypt(blob, context, keys=keys) if is_encrypted(blob) else blob


# --- text --------------------------------------------------------------------------------------

def encrypt_text(text: str, context: str | bytes, *, keys: Keyring | None = None) -> str:
    """``text`` encrypted (UTF-8) as ``enc1:`` and base64, for a text column."""
    return TEXT_PREFIX + base64.b64encode(encrypt(text.encode("utf-8"), context, keys=keys)).decode("ascii")


def is_encrypted_text(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith(TEXT_PREFIX)


def text_blob(value: str) -> bytes:
    """The binary ciphertext inside an ``enc1:`` value."""
    try:
        return base64.b64decode(value[len(TEXT_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("not valid base64 after enc1:") from None


def decrypt_text(value: str, context: str | bytes, *, keys: Keyring | None = None) -> str:
    """The text inside an ``enc1:`` value; ``DecryptionError`` as ``decrypt``."""
    if not is_encrypted_text(value):
        raise DecryptionError("not an encrypted value")
    return decrypt(text_blob(value), context, keys=keys).decode("utf-8")


def decrypt_text_or_plain(value: str, context: str | bytes, *, keys: Keyring | None = None) -> str:
    """``decrypt_text``, or ``value`` itself when it is plaintext from before encryption."""
    return decrypt_text(value, context, keys=keys) if is_encrypted_text(value) else value


# --- columns -----------------------------------------------------------------------------------

class EncryptedText(TypeDecorator):
    """A text column stored encrypted (``enc1:…``), read back as plaintext. The empty string
    and NULL are stored as they are (nothing to hide); a plaintext value from before
    encryption is read as it is. Not searchable or sortable in SQL.

    :param context: the column's place, e.g. ``travel_plans.passport_number``: a value copied
        into another encrypted column does not decrypt there.
    """

    impl = Text
    cache_ok = True

    def __init__(self, context: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return value
        return encrypt_text(str(value), self.context)

    def process_result_value(self, value, dialect):
        if value is None or value == "":
            return value
        return decrypt_text_or_plain(value, self.context)

    def reencrypted(self, stored: str) -> str:
        """A stored value under the current key (plaintext from before is encrypted)."""
        return encrypt_text(decrypt_text_or_plain(stored, self.context), self.context)

    def is_current(self, stored: str | None) -> bool:
        """Whether a stored value needs no rotation (empty, or under the current key)."""
        if stored in (None, ""):
            return True
        return is_encrypted_text(stored) and is_current(text_blob(stored))


class EncryptedBytes(TypeDecorator):
    """A binary column stored encrypted, read back as plaintext; plaintext from before is read as
    it is. NULL stays NULL.

    :param context: the column's place, e.g. ``inbound_mail.raw``.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(bytes(value), self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt_or_plain(bytes(value), self.context)

    def reencrypted(self, stored: bytes) -> bytes:
        """A stored value under the current key (plaintext from before is encrypted)."""
        return encrypt(decrypt_or_plain(bytes(stored), self.context), self.context)

    def is_current(self, stored: bytes | None) -> bool:
        if stored is None:
            return True
        return is_current(bytes(stored))
