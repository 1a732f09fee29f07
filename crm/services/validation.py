"""Field rules shared by every entry point: email, E.164 phone, ISO country, language, dates."""
from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

import phonenumbers
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from ..i18n import LANGUAGE_LOCALES

_EN = Locale("en")
COUNTRY_CODES = frozenset(code for code in _EN.territories if len(code) == 2 and code.isalpha()
                          and code not in {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"})
TIMEZONES = frozenset(available_timezones())


def clean_text(value, field, errors, *, max_len, required=False, label=None):
    """Strip ``value``; record an error if it is required and empty, or too long."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = _l("This must be text.")
        return None
    value = value.strip()
    if required and not value:
        errors[field] = _l("This field is required.")
    elif len(value) > max_len:
        errors[field] = _l("Keep this under %(max)s characters.", max=max_len)
    return value or None


def clean_email(value, field, errors, *, required=False):
    value = clean_text(value, field, errors, max_len=254, required=required)
    if not value or field in errors:
        return value
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        errors[field] = _l("Enter a valid email address, like name@example.com.")
        return None


def clean_phone(value, field, errors, *, region=None):
    """Any common way of writing a number, returned in E.164 (+12025550123)."""
    value = clean_text(value, field, errors, max_len=32)
    if not value or field in errors:
        return value
    try:
        number = phonenumbers.parse(value, region if region in COUNTRY_CODES else None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        errors[field] = _l("Enter the phone number with its country code, like +1 617 555 0100.")
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_country(value, field, errors, *, required=False):
    value = clean_text(value, field, errors, max_len=2, required=required)
    if not value or field in errors:
        return value
    value = value.upper()
    if value not in COUNTRY_CODES:
        errors[field] = _l("Choose a country from the list.")
        return None
    return value


def clean_language(value, field, errors, *, default="en"):
    if value in (None, ""):
        return default
    if not isinstance(value, str) or value not in LANGUAGE_LOCALES:
        errors[field] = _l("Choose one of the languages we offer.")
        return None
    return value


def clean_choice(value, field, errors, choices, *, required=False):
    if value in (None, ""):
        if required:
            errors[field] = _l("This field is required.")
        return None
    if not isinstance(value, str) or value not in choices:
        errors[field] = _l("Choose one of the options offered.")
        return None
    return value


def clean_birth_date(value, field, errors):
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors[field] = _l("Enter the date as YYYY-MM-DD.")
            return None
    if not isinstance(value, date):
        errors[field] = _l("Enter the date as YYYY-MM-DD.")
        return None
    if value > date.today():
        errors[field] = _l("The date of birth cannot be in the future.")
        return None
    if value.year < 1900:
        errors[field] = _l("Check the year of birth.")
        return None
    return value


def clean_timezone(value, field, errors):
    value = clean_text(value, field, errors, max_len=64)
    if value and field not in errors and value not in TIMEZONES:
        errors[field] = _l("Choose a time zone from the list.")
        return None
    return value
