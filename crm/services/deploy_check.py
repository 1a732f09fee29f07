"""``crm check --deploy``: the settings that would make a production instance insecure, each
told in one line (debug, the secret and encryption keys, SQLite, links, mail and cookies
without TLS)."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from flask_babel import gettext as _

from config import CONFIGS

#: A secret key shorter than this (characters) is too short to sign sessions and links.
MIN_SECRET_LENGTH = 32
#: What a secret key's characters tell of its randomness, at least (see ``estimated_bits``):
#: 32 random hexadecimal characters give 95 to 115 bits, ``secrets.token_urlsafe(48)`` about
#: 350; a repeated word or pattern far less.
MIN_SECRET_BITS = 80
#: 32 random bytes have about 28 distinct values; fewer than this is a pattern, not a key.
MIN_DISTINCT_KEY_BYTES = 16
#: Placeholders people put in a configuration file.
PLACEHOLDERS = {"changeme", "change-me", "change_me", "secret", "secret-key", "secretkey", "dev",
                "development", "test", "testing", "password", "itinera", "itinera-demo", "default",
                "xxx", "todo"}
KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
ENCRYPTION_HINT = "python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"


def known_defaults(name: str) -> set[str]:
    """The values of setting ``name`` written into this code (development and test keys)."""
    return {str(value) for cls in CONFIGS.values() if (value := getattr(cls, name, None))}


def estimated_bits(value: str) -> float:
    """The Shannon entropy of the characters of ``value`` (bits per character) times the number
    of its distinct three-character pieces: a pattern repeated counts once."""
    if len(value) < 3:
        return 0.0
    counts = Counter(value)
    per_character = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    pieces = {value[i:i + 3] for i in range(len(value) - 2)}
    return per_character * (len(pieces) + 2)


def check_environment(config: Mapping) -> str | None:
    name = config.get("ENV_NAME")
    if name != "production":
        return _("CRM_ENV is %(env)s: a production instance runs with CRM_ENV=production.", env=name)
    return None


def check_debug(config: Mapping) -> str | None:
    if config.get("DEBUG"):
        return _("Debug mode is on (CRM_DEBUG or FLASK_DEBUG): its error pages show code and data; "
                 "turn it off.")
    return None


def check_secret_key(config: Mapping) -> str | None:
    key = config.get("SECRET_KEY")
    if not key:
        return _("CRM_SECRET_KEY is not set: set it to a long random value (%(hint)s).", hint=KEY_HINT)
    key = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    if key in known_defaults("SECRET_KEY") or key.strip().lower() in PLACEHOLDERS:
        return _("CRM_SECRET_KEY is a known development value: anyone could sign sessions and "
                 "patient links; set a long random value (%(hint)s).", hint=KEY_HINT)
    if len(key) < MIN_SECRET_LENGTH:
        return _("CRM_SECRET_KEY is too short (%(length)d characters, at least %(min)d): set a long "
                 "random value (%(hint)s).", length=len(key), min=MIN_SECRET_LENGTH, hint=KEY_HINT)
    if estimated_bits(key) < MIN_SECRET_BITS:
        return _("CRM_SECRET_KEY is not random enough (a repeated word or pattern): set a long random "
                 "value (%(hint)s).", hint=KEY_HINT)
    return None


def check_encryption_key(config: Mapping) -> str | None:
    from config import ConfigError

    from .crypto import DEVELOPMENT_KEY, parse_key
    key = config.get("ENCRYPTION_KEY")
    if not key:
        return _("CRM_ENCRYPTION_KEY is not set: documents and passport numbers need it to be stored "
                 "encrypted; set it to the base64 of 32 random bytes (%(hint)s).", hint=ENCRYPTION_HINT)
    try:
        raw = parse_key(key, "CRM_ENCRYPTION_KEY")
    except ConfigError:
        return _("CRM_ENCRYPTION_KEY is not the base64 of 32 bytes: set the base64 of 32 random bytes "
                 "(%(hint)s).", hint=ENCRYPTION_HINT)
    if raw == DEVELOPMENT_KEY or str(key) in known_defaults("ENCRYPTION_KEY"):
        return _("CRM_ENCRYPTION_KEY is the known development key: anyone could read the documents and "
                 "passport numbers; set the base64 of 32 random bytes (%(hint)s).", hint=ENCRYPTION_HINT)
    if len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
        return _("CRM_ENCRYPTION_KEY is not random (a repeated pattern of bytes): set the base64 of 32 "
                 "random bytes (%(hint)s).", hint=ENCRYPTION_HINT)
    return None


def check_database(config: Mapping) -> str | None:
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or config.get("DATABASE_URL") or "")
    if url.startswith("sqlite:"):
        return _("CRM_DATABASE_URL is SQLite: in production use PostgreSQL "
                 "(postgresql+psycopg://USER:PASSWORD@HOST/DATABASE).")
    return None


def scheme(value) -> str:
    return urlsplit(str(value or "")).scheme.lower()


def check_base_url(config: Mapping) -> str | None:
    if scheme(config.get("BASE_URL")) != "https":
        return _("CRM_BASE_URL does not begin with https://: the patients' links in emails would travel "
                 "without TLS.")
    return None


def check_smtp(config: Mapping) -> str | None:
    if config.get("SMTP_URL") and scheme(config["SMTP_URL"]) == "smtp":
        return _("CRM_SMTP_URL uses smtp:// without TLS: use smtps:// or smtp+starttls://.")
    return None


def check_imap(config: Mapping) -> str | None:
    if config.get("IMAP_URL") and scheme(config["IMAP_URL"]) == "imap":
        return _("CRM_IMAP_URL uses imap:// without TLS: use imaps://.")
    return None


def check_cookies(config: Mapping) -> str | None:
    if not config.get("SESSION_COOKIE_SECURE"):
        return _("The session cookie is not Secure (CRM_SESSION_COOKIE_SECURE): browsers would send it "
                 "without TLS.")
    return None


def check_cookie_script_access(config: Mapping) -> str | None:
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        return _("The session cookie is readable by scripts (CRM_SESSION_COOKIE_HTTPONLY is off).")
    return None


CHECKS: tuple[Callable[[Mapping], str | None], ...] = (
    check_environment, check_debug, check_secret_key, check_encryption_key, check_database,
    check_base_url, check_smtp, check_imap, check_cookies, check_cookie_script_access)


def deploy_problems(config: Mapping) -> list[str]:
    """One line for each setting that makes a production instance insecure; empty when none."""
    return [problem for check in CHECKS if (problem := check(config))]


def read_settings() -> tuple[Mapping, str | None]:
    """The settings as the app reads them at start-up (``CRM_ENV`` and the ``CRM_*`` variables),
    and the start-up check's refusal, if any: a report names it among the rest. A ``CRM_ENV``
    that names no environment is a ``ConfigError``."""
    from flask import Flask

    from config import INSTANCE_DIR, ConfigError, config_for

    from .. import register_config
    cls = config_for()
    app = Flask("crm", instance_path=str(INSTANCE_DIR))
    try:
        register_config(app, cls, {})
    except ConfigError as error:
        return app.config, str(error)
    return app.config, None


def report(*, deploy: bool) -> list[str]:
    """The lines of ``crm check``: the setting that stops the app from starting, then (``deploy``)
    each insecure production setting that it does not already name."""
    config, refusal = read_settings()
    lines = [refusal] if refusal else []
    if deploy:
        named = refusal.split(" ", 1)[0] if refusal else None
        lines += [line for line in deploy_problems(config) if line.split(" ", 1)[0] != named]
    return lines
