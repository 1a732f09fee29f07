"""Configuration: development, testing and production settings, overridden by ``CRM_*`` variables."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or wrong: the message names the variable and what it should be."""


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    TEMPLATE_FOLDER = str(BASE_DIR / "templates")
    TRANSLATIONS_DIR = str(BASE_DIR / "translations")
    MIGRATIONS_DIR = str(BASE_DIR / "migrations")

    SECRET_KEY: str | None = None
    DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'crm.sqlite3'}"
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_FROM = "International Patient Center <international@itinera.example>"
    SMTP_URL: str | None = None
    IMAP_URL: str | None = None
    TIMEZONE = "America/New_York"
    UPLOAD_DIR = str(INSTANCE_DIR / "uploads")
    OUTBOX_DIR = str(INSTANCE_DIR / "outbox")
    #: The address patients reply to; ``+ITN-…`` is added to thread their answers.
    REPLY_ADDRESS: str | None = None
    PORTAL_LINK_DAYS = 30
    PORTAL_RATE_LIMIT = "60 per minute;600 per hour"
    MAX_UPLOAD_MB = 25
    #: Delivery attempts before a message is marked failed (backoff doubles up to 6 hours).
    SMTP_MAX_ATTEMPTS = 12
    SMTP_TIMEOUT = 30
    #: When each coordinator's digest of the day's tasks is sent (center's time, business days).
    DIGEST_AT = "07:30"
    # Registration and Referral Center hours: weekday (0 = Monday) -> (opens, closes)
    BUSINESS_HOURS = {0: ("08:00", "18:00"), 1: ("08:00", "18:00"), 2: ("08:00", "18:00"),
                      3: ("08:00", "18:00"), 4: ("08:00", "17:00")}
    HOLIDAYS: list[str] = []

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # pre-ping: a database restart costs no request; hidden parameters: no PHI in logs.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "itinera_session"
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=15)  # idle sign-out
    SESSION_REFRESH_EACH_REQUEST = True
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the (15-minute idle) session

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    REQUEST_FORM_RATE_LIMIT = "5 per minute;30 per hour"
    LOGIN_RATE_LIMIT = "10 per minute"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)

    PAGE_SIZE = 50
    BOARD_CARDS_PER_STAGE = 12
    #: The hospital's medical record numbers: a regular expression the whole number matches
    #: (default 7 to 10 digits), and an example shown when one does not.
    MRN_PATTERN = r"[0-9]{7,10}"
    MRN_EXAMPLE = "1234567"


class DevelopmentConfig(Config):
    """``make run``: a local SQLite database and a fixed development key."""

    ENV_NAME = "development"
    SECRET_KEY = "dev-only-not-secret"


class TestingConfig(Config):
    """The test suite: a throwaway database chosen by the fixtures."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    DATABASE_URL = "sqlite://"
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "1000 per minute"
    REQUEST_FORM_RATE_LIMIT = "1000 per minute"


class ProductionConfig(Config):
    """Production: refuses to start without ``CRM_SECRET_KEY``."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig,
           "production": ProductionConfig}


def config_for(name: str | None = None) -> type[Config]:
    """The config class named by ``name`` or ``CRM_ENV`` (development by default)."""
    name = name or os.environ.get("CRM_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"CRM_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
