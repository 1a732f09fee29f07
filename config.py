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
    #: How long a coordinator's break-glass (emergency) access to one case lasts.
    BREAK_GLASS_MINUTES = 60

    PAGE_SIZE = 50
    BOARD_CARDS_PER_STAGE = 12
    #: The hospital's medical record numbers: a regular expression the whole number matches
    #: (default 7 to 10 digits), and an example shown when one does not.
    MRN_PATTERN = r"[0-9]{7,10}"
    MRN_EXAMPLE = "1234567"

    # The patient's journey: money, the visa letter, the online second opinion.
    #: The hospital as the visa invitation letter's letterhead names it.
    HOSPITAL_NAME = "Itinera University Hospital — International Patient Center"
    HOSPITAL_ADDRESS = "55 Fruit Street\nBoston, MA 02114\nUnited States of America"
    HOSPITAL_PHONE = "+1 617 555 0100"
    #: The currency the hospital bills in (ISO 4217); estimates are also shown in the patient's.
    BILLING_CURRENCY = "USD"
    #: A dated table, not a live feed (no network at run time): units of each currency for one
    #: unit of BILLING_CURRENCY. Indicative; set CRM_EXCHANGE_RATES (JSON) to the rates in force.
    EXCHANGE_RATES = {"date": "2026-12-01", "rates": {
        "AED": "3.6725", "ARS": "1010", "BHD": "0.376", "BRL": "5.80", "CAD": "1.40", "CHF": "0.88",
        "CLP": "975", "CNY": "7.25", "COP": "4400", "DZD": "134", "EGP": "49.5", "EUR": "0.95",
        "GBP": "0.79", "INR": "84.5", "IQD": "1310", "JOD": "0.709", "JPY": "150", "KWD": "0.307",
        "KZT": "515", "LBP": "89500", "MAD": "10.0", "MXN": "20.4", "NGN": "1680", "OMR": "0.385",
        "PEN": "3.76", "QAR": "3.64", "RUB": "105", "SAR": "3.75", "TND": "3.15", "TRY": "34.7",
        "UAH": "41.5"}}
    #: A self-pay deposit is due this many business days before the first visit.
    DEPOSIT_DUE_BUSINESS_DAYS = 5
    #: The written online second opinion is due this many business days after writing begins.
    OPINION_TURNAROUND_DAYS = 10


class DevelopmentConfig(Config):
    """``make run``: a local SQLite database and a fixed development key."""

    ENV_NAME = "development"
    SECRET_KEY = "dev-only-not-secret"  # nosec B105 - known to crm check --deploy, which refuses it


class TestingConfig(Config):
    """The test suite: a throwaway database chosen by the fixtures."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"  # nosec B105 - known to crm check --deploy, which refuses it
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
