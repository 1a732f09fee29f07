"""What every template gets: locale and direction, labels, dates in the reader's zone."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for
from flask_babel import format_decimal, get_locale
from flask_login import current_user

from .. import labels
from ..i18n import LANGUAGE_LABELS, NATIVE_NAMES, UI_LOCALES, is_rtl, language_for_locale
from ..models.base import utcnow
from ..services.formatting import days_since, file_size, format_list, local_time, mail_date, opening_hours


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
    app.jinja_env.filters["format_list"] = format_list
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.globals.update(url_with=url_with, days_since=days_since, utcnow=utcnow,
                                 opening_hours=opening_hours)

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
