"""Dates, lists, sizes and opening hours in the reader's language, for pages, mail and jobs alike."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache, reduce
from zoneinfo import ZoneInfo

from babel.dates import format_time, get_day_names
from babel.lists import format_list as babel_format_list
from babel.units import format_unit
from flask import current_app
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..models.base import utcnow
from .business_hours import BusinessCalendar


def staff_zone() -> ZoneInfo:
    """The center's business time zone."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_time(value: datetime | None, fmt: str = "medium", zone: str | None = None) -> str:
    """A UTC timestamp shown in the center's zone (or ``zone``), with the zone named."""
    if value is None:
        return ""
    moment = value.astimezone(ZoneInfo(zone) if zone else staff_zone())
    return format_datetime(moment, fmt, rebase=False) + " " + moment.tzname()


def mail_date(value: datetime | None) -> str:
    """A date in mail, in the recipient's language (the locale is forced while rendering)."""
    return _long_date(value.astimezone(staff_zone()).date(), str(get_locale())) if value else ""


@lru_cache(maxsize=256)
def _long_date(day: date, locale: str) -> str:
    return format_date(day, "long")  # in ``locale``, the current one: it is part of the key


def days_since(value: datetime | None) -> int:
    """Whole days from ``value`` to now (0 for None or the future)."""
    return 0 if value is None else max(0, (utcnow() - value).days)


def format_list(items: Iterable, style: str = "standard") -> str:
    """Items as a list in the current locale: "a, b, and c", "a, b et c", "a وb وc", "a、b和c".
    Safe markup among the items (translated sentences in a template) gives safe markup."""
    items = list(items)
    locale = get_locale() or "en"
    if not any(isinstance(item, Markup) for item in items):
        return babel_format_list([str(item) for item in items], style=style, locale=locale)
    tokens = [f"\x00{index}\x00" for index in range(len(items))]
    joined = escape(babel_format_list(tokens, style=style, locale=locale))
    for token, item in zip(tokens, items):
        joined = joined.replace(token, escape(item))
    return Markup(joined)  # nosec B704 # nosemgrep: itinera-markup-on-data - every piece escaped above


def file_size(size: int | float | None) -> str:
    """A size in bytes as kilobytes or megabytes in the current locale ("12 kB", "1,5 Mo")."""
    kilobytes = (size or 0) / 1024
    unit, value = ("digital-megabyte", kilobytes / 1024) if kilobytes >= 1024 \
        else ("digital-kilobyte", kilobytes)
    return format_unit(value, unit, length="short", format="#,##0" if value >= 10 else "#,##0.#",
                       locale=get_locale() or "en")


def opening_hours() -> str:
    """The center's opening hours in the current locale: "Monday–Thursday, 8:00 AM–6:00 PM; …"."""
    locale = get_locale() or "en"
    names = get_day_names("wide", locale=locale)
    hours = BusinessCalendar.from_config(current_app.config).hours
    groups: list[list] = []
    for day in range(7):
        span = hours.get(day)
        if span and groups and groups[-1][2] == span and groups[-1][1] == day - 1:
            groups[-1][1] = day
        elif span:
            groups.append([day, day, span])
    parts = []
    for first, last, (opens, closes) in groups:
        days = names[first] if first == last else _("%(first_day)s–%(last_day)s",
                                                    first_day=names[first], last_day=names[last])
        parts.append(_("%(days)s, %(opens)s–%(closes)s", days=days,
                       opens=format_time(opens, "short", locale=locale),
                       closes=format_time(closes, "short", locale=locale)))
    # Opening hours of several days, joined the way the language separates such groups.
    joined = reduce(lambda left, right: _("%(hours)s; %(more_hours)s", hours=left, more_hours=right),
                    parts)
    return _("%(hours)s (Boston time)", hours=joined)
