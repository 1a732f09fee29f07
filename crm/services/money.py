"""Money: amounts as integer minor units of an ISO 4217 currency (never floats), read and
shown through Babel in the reader's locale, converted with the configured, dated rate table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.numbers import NumberFormatError, get_currency_precision, get_territory_currencies, is_currency, \
    parse_decimal
from flask import current_app
from flask_babel import format_currency, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

#: ISO 4217 codes that are not money a patient pays in: precious metals, funds, test and "none".
NOT_MONEY = frozenset({"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS",
                       "XUA", "XXX"})
#: No amount above this (in major units) is taken: a typo, not a bill.
MAX_AMOUNT = Decimal("1000000000")


def billing_currency() -> str:
    return current_app.config["BILLING_CURRENCY"]


def is_known_currency(code) -> bool:
    """Whether ``code`` is an ISO 4217 currency one can pay in (Babel's list)."""
    return isinstance(code, str) and len(code) == 3 and code.isupper() and code not in NOT_MONEY \
        and is_currency(code)


def clean_currency(value, field: str, errors: dict, *, required: bool = False) -> str | None:
    """An ISO 4217 code (``usd`` is read as ``USD``); an unknown one is refused by name."""
    if value in (None, ""):
        if required:
            errors[field] = _l("Choose the currency.")
        return None
    code = str(value).strip().upper()
    if not is_known_currency(code):
        errors[field] = _l("“%(code)s” is not a currency code we know (ISO 4217, such as USD, EUR "
                           "or SAR).", code=str(value).strip()[:10])
        return None
    return code


def precision(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """``amount`` in major units as whole minor units (cents), rounded half to even."""
    places = precision(currency)
    return int((amount * (10 ** places)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-precision(currency))


def parse_amount(value, currency: str, field: str, errors: dict, *, required: bool = False) -> int | None:
    """An amount typed in the reader's locale ("1.234,50" in Portuguese) or given as a number
    (``Decimal``, ``int``, a JSON string "1234.50"), as minor units of ``currency``."""
    if value in (None, ""):
        if required:
            errors[field] = _l("Give the amount.")
        return None
    example = format_decimal(Decimal("1234.50") if precision(currency) else Decimal(1234),
                             format="#,##0.00" if precision(currency) else "#,##0")
    if isinstance(value, bool) or isinstance(value, float):
        errors[field] = _l("Enter an amount such as %(example)s.", example=example)
        return None
    try:
        if isinstance(value, (int, Decimal)):
            amount = Decimal(value)
        else:
            text = str(value).strip()
            try:
                amount = parse_decimal(text, locale=get_locale() or "en", strict=True)
            except NumberFormatError:
                amount = Decimal(text)  # "1234.50" whatever the locale (an API client)
    except (InvalidOperation, ValueError, NumberFormatError):
        errors[field] = _l("Enter an amount such as %(example)s.", example=example)
        return None
    if not amount.is_finite() or amount <= 0:
        errors[field] = _l("The amount must be more than zero.")
        return None
    if amount > MAX_AMOUNT:
        errors[field] = _l("Check the amount: it is too large.")
        return None
    if amount != amount.quantize(Decimal(1).scaleb(-precision(currency))):
        errors[field] = _l("%(currency)s amounts have at most %(places)d decimals.", currency=currency,
                           places=precision(currency)) if precision(currency) else \
            _l("%(currency)s amounts are whole numbers.", currency=currency)
        return None
    return to_minor(amount, currency)


def format_money(minor: int | None, currency: str) -> str:
    """Minor units of ``currency`` in the current locale: "US$ 1.234,50", "\u200f1,234.50 ر.س.\u200f"."""
    if minor is None:
        return ""
    return format_currency(to_major(minor, currency), currency)


@dataclass(frozen=True)
class RateTable:
    """Units of each currency for one unit of the billing currency, as of ``as_of``."""

    as_of: date
    rates: dict


def rate_table() -> RateTable:
    """The configured table (``EXCHANGE_RATES``), read once per setting."""
    config = current_app.config["EXCHANGE_RATES"]
    cache = current_app.extensions.setdefault("itinera.rate_tables", {})
    key = repr(config)
    if key not in cache:
        cache[key] = parse_rate_table(config)
    return cache[key]


def parse_rate_table(config) -> RateTable:
    """Check a rate table setting: ``{"date": "YYYY-MM-DD", "rates": {"EUR": "0.95", …}}``;
    ``ValueError`` says what is wrong."""
    if not isinstance(config, dict) or not isinstance(config.get("rates"), dict):
        raise ValueError('use {"date": "YYYY-MM-DD", "rates": {"EUR": "0.95"}}')
    try:
        as_of = date.fromisoformat(str(config.get("date")))
    except ValueError:
        raise ValueError(f"the date {config.get('date')!r} is not YYYY-MM-DD") from None
    rates = {}
    for code, value in config["rates"].items():
        if not is_known_currency(code):
            raise ValueError(f"{code!r} is not an ISO 4217 currency code")
        try:
            rate = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"the rate of {code} is not a number: {value!r}") from None
        if not rate.is_finite() or rate <= 0:
            raise ValueError(f"the rate of {code} must be above zero")
        rates[code] = rate
    return RateTable(as_of, rates)


def has_rate(currency: str) -> bool:
    return currency == billing_currency() or currency in rate_table().rates


def convert(minor: int | None, currency: str) -> int | None:
    """Minor units of the billing currency in ``currency`` at the table's rate; None without one."""
    if minor is None:
        return None
    if currency == billing_currency():
        return minor
    rate = rate_table().rates.get(currency)
    if rate is None:
        return None
    return to_minor(to_major(minor, billing_currency()) * rate, currency)


def currency_of_country(country: str | None) -> str | None:
    """The currency in use today in a country (ISO 3166), as Babel knows it."""
    if not country:
        return None
    found = get_territory_currencies(country, date.today(), tender=True)
    return found[0] if found else None
