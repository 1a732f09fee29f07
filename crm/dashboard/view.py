"""What the dashboard page shows: the service's figures as tiles, charts and tables, every figure
a link to the list of the cases behind it, numbers and dates in the reader's locale."""
from __future__ import annotations

from datetime import timedelta

from babel import Locale
from babel.dates import format_skeleton
from babel.units import format_unit
from flask import url_for
from flask_babel import format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _

from .. import labels
from ..i18n import LANGUAGE_LABELS, is_rtl
from ..models import Center
from ..services.dashboard import UNKNOWN, UNROUTED
from ..services.pipeline import OPEN_STAGES, STAGES
from . import charts


def number(value) -> str:
    return format_decimal(value)


def percent(share) -> str:
    return "—" if share is None else format_percent(share, "#,##0%")


def days(value) -> str:
    if value is None:
        return "—"
    return format_unit(value, "duration-day", length="short", format="#,##0.#", locale=get_locale() or "en")


class Links:
    """Addresses of the inquiry list filtered to the cases behind a figure."""

    def __init__(self, figures: dict):
        filters = figures["filters"]
        self.center = {"center": filters["center"]} if filters["center"] else {}
        self.range = {**self.center}
        if filters["from"]:
            self.range["created_from"] = filters["from"].isoformat()
        if filters["to"]:
            self.range["created_to"] = filters["to"].isoformat()

    def created(self, **args) -> str:
        """Cases created in the range (and center), with more filters."""
        return url_for("inquiries.index", **{**self.range, **args})

    def now(self, **args) -> str:
        """Cases as they stand now (the center filter only)."""
        return url_for("inquiries.index", **{**self.center, **args})

    def week(self, week, first, last, **args) -> str:
        return url_for("inquiries.index", **{**self.center, "created_from": first.isoformat(),
                                             "created_to": last.isoformat(), **args})


def _territory(code: str, locale: Locale) -> str:
    if code == UNKNOWN:
        return _("Unknown")
    return locale.territories.get(code, code)


def page(figures: dict, centers: list[Center], today) -> dict:
    """The page's tiles, charts and tables from ``figures`` (``services.dashboard.figures``)."""
    locale = get_locale() or Locale.parse("en")
    rtl = is_rtl(locale)
    link = Links(figures)
    names = {c.key: c.name_in(locale) for c in centers}
    total = figures["total"]

    def hbars(items):
        return charts.bars(items, rtl=rtl)

    def bar(label, value, href):
        return charts.Bar(label=label, value=value, text=number(value), href=href,
                          title=_("%(label)s: %(count)s", label=label, count=number(value)))

    funnel = [bar(str(labels.STAGE_LABELS[s]), figures["funnel"][s], link.created(reached=s))
              for s in OPEN_STAGES]
    stages = [bar(str(labels.STAGE_LABELS[s]), figures["by_stage"][s], link.created(stage=s)) for s in STAGES]
    by_center = [bar(names.get(key, key) if key != UNROUTED else _("Not routed yet"), n,
                     link.created(center=key) if key != UNROUTED else link.created(unrouted="all"))
                 for key, n in sorted(figures["by_center"].items(), key=lambda item: -item[1])]
    countries = [bar(_territory(code, locale), n, link.created(country=code) if code != UNKNOWN else None)
                 for code, n in figures["by_country"].items()]
    languages = [bar(str(LANGUAGE_LABELS.get(code, code)) if code != UNKNOWN else _("Unknown"), n,
                     link.created(language=code) if code in LANGUAGE_LABELS else None)
                 for code, n in figures["by_language"].items()]
    sources = [bar(str(labels.SOURCE_LABELS[s]), n, link.created(source=s))
               for s, n in figures["by_source"].items()]
    medians = []
    for s in OPEN_STAGES:
        value = figures["median_days_in_stage"][s]
        label = str(labels.STAGE_LABELS[s])
        medians.append(charts.Bar(label=label, value=value or 0, text=days(value),
                                  href=link.created(left_stage=s) if figures["stays"][s] else None,
                                  title=_("%(label)s: %(days)s", label=label, days=days(value))))

    week_rows = []
    new_columns, response_columns = [], []
    for new, response in zip(figures["new_by_week"], figures["first_response_by_week"]):
        week = new["week"]
        first, last = max(week, figures["filters"]["from"] or week), week + timedelta(days=6)
        if figures["filters"]["to"]:
            last = min(last, figures["filters"]["to"])
        label = format_skeleton("MMMd", week, locale=locale)
        long_label = _("Week of %(date)s", date=format_date(week, "long"))
        new_href = link.week(week, first, last)
        new_columns.append(charts.Column(label=label, text=number(new["count"]), parts=[charts.Part(
            new["count"], new_href,
            _("%(week)s: %(count)s new", week=long_label, count=number(new["count"])))]))
        response_columns.append(charts.Column(label=label, text=percent(response["share"]), parts=[
            charts.Part(response["on_time"], link.week(week, first, last, first_response="on_time"),
                        _("%(week)s: %(count)s on time", week=long_label,
                          count=number(response["on_time"])), "good"),
            charts.Part(response["late"], link.week(week, first, last, first_response="late"),
                        _("%(week)s: %(count)s late", week=long_label,
                          count=number(response["late"])), "late")]))
        week_rows.append({"label": long_label, "new": new["count"], "new_href": new_href,
                          "on_time": response["on_time"], "late": response["late"],
                          "share_text": percent(response["share"]),
                          "on_time_href": link.week(week, first, last, first_response="on_time"),
                          "late_href": link.week(week, first, last, first_response="late")})

    monday = today - timedelta(days=today.weekday())
    response = figures["first_response"]
    tiles = [
        {"title": _("New this week"), "value": number(figures["new_this_week"]),
         "href": link.week(monday, monday, today),
         "note": _("Since %(date)s", date=format_date(monday, "medium"))},
        {"title": _("First response within one business day"),
         "value": percent(figures["first_response_sla"]),
         "href": link.created(first_response="late"),
         "note": _("%(on_time)s on time, %(late)s late", on_time=number(response["on_time"]),
                   late=number(response["late"]))},
        {"title": _("Open cases"), "value": number(figures["open_cases"]), "href": link.now(open="1"),
         "note": _("Now, whatever the dates")},
        {"title": _("Overdue tasks"), "value": number(figures["overdue_tasks"]),
         "href": link.now(overdue="all"),
         "note": _("Now, whatever the dates")},
    ]
    workload = []
    for row in figures["workload"]:
        uid = row["coordinator_id"]
        workload.append({"name": row["name"] or _("Nobody yet"), "open": row["open_cases"],
                         "overdue": row["overdue_tasks"],
                         "open_href": link.now(coordinator=uid or "none", open="1"),
                         "overdue_href": link.now(overdue=uid or "none")})
    conversion = figures["conversion"]
    return {
        "rtl": rtl, "tiles": tiles, "total": total,
        "conversion": {"share": percent(conversion["share"]), "reached": number(conversion["reached_care"]),
                       "total": number(total), "href": link.created(reached="in_care")},
        "funnel": hbars(funnel), "stages": hbars(stages), "centers": hbars(by_center),
        "countries": hbars(countries), "languages": hbars(languages), "sources": hbars(sources),
        "medians": hbars(medians),
        "new_weeks": charts.columns(new_columns, rtl=rtl),
        "response_weeks": charts.columns(response_columns, rtl=rtl),
        "weeks": week_rows, "workload": workload, "all_href": link.created(),
    }
