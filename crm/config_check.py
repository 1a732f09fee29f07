"""The settings, checked once when the app is created: a setting that cannot work is a
``ConfigError`` naming its variable, before any request, job or command runs into it."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from email.utils import parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config import ConfigError

#: Settings that must be whole numbers above zero.
POSITIVE_INTEGERS = ("MAX_UPLOAD_MB", "PORTAL_LINK_DAYS", "SMTP_MAX_ATTEMPTS", "SMTP_TIMEOUT",
                     "LOGIN_MAX_FAILURES", "PAGE_SIZE", "BOARD_CARDS_PER_STAGE", "DEPOSIT_DUE_BUSINESS_DAYS",
                     "OPINION_TURNAROUND_DAYS")
RATE_LIMITS = ("PORTAL_RATE_LIMIT", "REQUEST_FORM_RATE_LIMIT", "LOGIN_RATE_LIMIT")
SMTP_SCHEMES = ("smtp", "smtps", "smtp+starttls")
IMAP_SCHEMES = ("imap", "imaps")


def check(config: Mapping) -> None:
    """Raise ``ConfigError`` for the first setting that cannot work."""
    if not config.get("SECRET_KEY"):
        raise ConfigError("CRM_SECRET_KEY is not set. Production refuses to start without it: "
                          "set CRM_SECRET_KEY to a long random value (python -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))').")
    check_database_url(str(config["SQLALCHEMY_DATABASE_URI"]))
    check_url("BASE_URL", config.get("BASE_URL"), ("http", "https"), required=True)
    check_url("SMTP_URL", config.get("SMTP_URL"), SMTP_SCHEMES)
    check_url("IMAP_URL", config.get("IMAP_URL"), IMAP_SCHEMES)
    for name in ("MAIL_FROM", "REPLY_ADDRESS"):
        value = config.get(name)
        if (value or name == "MAIL_FROM") and "@" not in parseaddr(str(value or ""))[1]:
            raise ConfigError(f"CRM_{name} is not an email address: use name@domain or "
                              "'Name <name@domain>'")
    for name in POSITIVE_INTEGERS:
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"CRM_{name} must be a whole number above 0, not {value!r}")
    for name in RATE_LIMITS:
        check_rate_limit(name, config.get(name))
    check_calendar(config)
    check_money(config)
    check_mrn_pattern(config.get("MRN_PATTERN"), config.get("MRN_EXAMPLE"))
    check_encryption(config)


def check_encryption(config: Mapping) -> None:
    """CRM_ENCRYPTION_KEY and CRM_ENCRYPTION_OLD_KEYS (production refuses to start without a key)."""
    from .services.crypto import check as check_keys

    check_keys(config)


def check_mrn_pattern(pattern, example) -> None:
    """A regular expression that the example medical record number matches."""
    import re

    try:
        compiled = re.compile(str(pattern or ""))
    except re.error as error:
        raise ConfigError(f"CRM_MRN_PATTERN is not a regular expression ({error})") from None
    if not pattern or not compiled.fullmatch(str(example or "")):
        raise ConfigError(f"CRM_MRN_EXAMPLE {example!r} does not match CRM_MRN_PATTERN {pattern!r}: "
                          "give an example of the hospital's medical record numbers")


def check_money(config: Mapping) -> None:
    """The billing currency and the dated exchange rate table."""
    from .services.money import is_known_currency, parse_rate_table

    if not is_known_currency(config.get("BILLING_CURRENCY")):
        raise ConfigError(f"CRM_BILLING_CURRENCY must be an ISO 4217 currency code such as USD, not "
                          f"{config.get('BILLING_CURRENCY')!r}")
    try:
        parse_rate_table(config.get("EXCHANGE_RATES"))
    except ValueError as error:
        raise ConfigError(f"CRM_EXCHANGE_RATES cannot be used: {error}") from None


def check_database_url(value: str) -> None:
    """A SQLite or PostgreSQL URL whose driver is installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ConfigError("CRM_DATABASE_URL is not a database URL: use sqlite:///PATH/TO/FILE or "
                          "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"CRM_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL, "
                          f"not {url.drivername}://")
    try:
        url.get_dialect().import_dbapi()
    except (ArgumentError, ImportError):
        raise ConfigError(f"CRM_DATABASE_URL: there is no {url.drivername} driver here "
                          "(use sqlite:/// or postgresql+psycopg://)") from None


def check_url(name: str, value, schemes: tuple[str, ...], *, required: bool = False) -> None:
    """``value`` is a URL of one of ``schemes`` with a host (and a valid port, if any)."""
    if not value and not required:
        return
    expected = " or ".join(f"{scheme}://" for scheme in schemes)
    parts = urlsplit(str(value or ""))
    if parts.scheme.lower() not in schemes:
        found = f"{parts.scheme}://" if parts.scheme else "a value without a scheme"
        raise ConfigError(f"CRM_{name} must begin with {expected}, not {found}")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise ConfigError(f"CRM_{name} has a port that is not a number") from None
    if not parts.hostname:
        raise ConfigError(f"CRM_{name} has no host name ({expected}HOST…)")


def check_rate_limit(name: str, value) -> None:
    """A Flask-Limiter limit string, such as ``5 per minute;30 per hour``."""
    from limits import parse_many

    try:
        parse_many(str(value))
    except ValueError:
        raise ConfigError(f"CRM_{name} is not a rate limit such as '5 per minute;30 per hour': "
                          f"{value!r}") from None


def check_calendar(config: Mapping) -> None:
    """The business time zone, hours, holidays and the digests' time of day."""
    from .services.business_hours import BusinessCalendar

    try:
        ZoneInfo(str(config.get("TIMEZONE")))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"CRM_TIMEZONE is not a time zone: {config.get('TIMEZONE')!r} (use an IANA "
                          "name such as America/New_York)") from None
    try:
        BusinessCalendar.from_config(config)
    except ValueError as error:
        raise ConfigError(f"CRM_BUSINESS_HOURS or CRM_HOLIDAYS cannot be used: {error}") from None
    except (TypeError, AttributeError):
        raise ConfigError('CRM_BUSINESS_HOURS must be a JSON object such as {"0": ["08:00", "18:00"]} '
                          '(0 is Monday) and CRM_HOLIDAYS a JSON list of dates such as '
                          '["2026-12-25"]') from None
    try:
        time.fromisoformat(str(config.get("DIGEST_AT")))
    except ValueError:
        raise ConfigError(f"CRM_DIGEST_AT must be a time of day such as 07:30, not "
                          f"{config.get('DIGEST_AT')!r}") from None
