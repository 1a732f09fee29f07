"""Field rules of the journey's forms (finance, appointments, travel): dates, yes/no answers,
passport numbers and how they are shown."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l

PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{5,20}")
#: How many characters of a passport number are shown to those who may not see it whole.
SHOWN_CHARACTERS = 3


def clean_date(value, field: str, errors: dict, *, required: bool = False) -> date | None:
    """A date from a form (``date``) or the API (ISO ``YYYY-MM-DD``); errors by ``field``."""
    if value in (None, ""):
        if required:
            errors[field] = _l("Give the date.")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[field] = _l("Enter the date as YYYY-MM-DD.")
    return None


def clean_flag(value) -> bool:
    """A checkbox or a JSON boolean: on, true, yes, 1 are yes; anything else no."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "y", "yes", "on", "true")


def clean_passport_number(value, field: str, errors: dict) -> str:
    """A passport number as printed: letters and digits, spaces and dashes dropped."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = _l("This must be text.")
        return ""
    number = re.sub(r"[\s-]", "", value).upper()
    if number and not PASSPORT_NUMBER.fullmatch(number):
        errors[field] = _l("A passport number has 5 to 20 letters and digits.")
        return ""
    return number


def mask(number: str | None) -> str:
    """A passport number with all but its last characters hidden: ``•••••789``."""
    if not number:
        return ""
    shown = number[-SHOWN_CHARACTERS:]
    return "•" * max(len(number) - SHOWN_CHARACTERS, 3) + shown
