"""What every template gets: locale and direction, labels, dates in the reader's zone."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from .. import labels
from ..i18n import LANGUAGE_LABELS, NATIVE_NAMES, UI_LOCALES, is_rtl, language_for_locale
from ..models.base import utcnow


def staff_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_time(value: datetime | None, fmt: str = "medium", zone: str | None = None) -> str:
    """A UTC timestamp shown in the center's zone (or ``zone``), with the zone named."""
    if value is None:
        return ""
    tz = ZoneInfo(zone) if zone else staff_zone()
    return format_datetime(value.astimezone(tz), fmt, rebase=False) + " " + \
        value.astimezone(tz).tzname()


def mail_date(value: datetime | None) -> str:
    """A date in mail, in the recipient's language (the locale is forced while rendering)."""
    return _long_date(value.astimezone(staff_zone()).date(), str(get_locale())) if value else ""


@lru_cache(maxsize=256)
def _long_date(day: date, locale: str) -> str:
    return format_date(day, "long")  # in ``locale``, the current one: it is part of the key


def days_since(value: datetime | None) -> int:
    return 0 if value is None else max(0, (utcnow() - value).days)


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    if request.endpoint is None:  # an error page for an unknown address
        return request.path + ("?" + urlencode(args) if args else "")
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["maildate"] = mail_date
    app.jinja_env.globals.update(url_with=url_with, days_since=days_since, utcnow=utcnow)

    @app.context_processor
    def task_counts():
        """Overdue and today's tasks of the signed-in coordinator, for the navigation."""
        if current_user.is_authenticated and current_user.sees_cases:
            from ..services.followups import due_counts
            from ..services.worklist import triage_count
            return {"task_counts": due_counts(current_user), "triage_count": triage_count(current_user)}
        return {"task_counts": None, "triage_count": None}

    @app.context_processor
    def inject():
        locale = str(get_locale() or "en")
        return {
            "locale": locale,
            "html_lang": language_for_locale(locale),
            "text_dir": "rtl" if is_rtl(locale) else "ltr",
            "ui_locales": [(code, NATIVE_NAMES[language_for_locale(code)]) for code in UI_LOCALES],
            "labels": labels,
            "language_labels": LANGUAGE_LABELS,
            "native_names": NATIVE_NAMES,
            "current_user": current_user,
            "center_zone": current_app.config["TIMEZONE"],
        }
