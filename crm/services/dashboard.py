"""The managers' dashboard: the pipeline's figures over a date range and a center, read from the
counts that ``dashboard_counts`` keeps in step with every write (a fixed handful of queries,
however many inquiries there are), within what the reader may see."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, false, func, select, true, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Center, Inquiry, Task, User
from ..models.base import utcnow
from ..models.dashboard import MONTH, WEEK, ZONE, DashboardCount, OpenTaskCount
from ..models.inquiry import SOURCES
from ..models.task import OPEN
from .dashboard_counts import (FIRST_RESPONSE, ONE_DAY, contributions, hour_of, periods_of,
                               response_outcome, write_counts, zone)
from .errors import DomainError, Forbidden, ValidationError
from .pipeline import CLOSED, OPEN_STAGES, STAGES
from .visibility import inquiry_scope

#: The dates a range may use (and an open end stands for).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
#: Weeks in the trends: the last 13 when no start is chosen, at most 26.
TREND_WEEKS, TREND_MAX_WEEKS = 13, 26
#: The stage whose reaching counts as coming into care.
CARE = "in_care"
UNROUTED, UNKNOWN = "unrouted", "unknown"

# re-exported for the web layer and the tests
__all__ = ["FIRST_RESPONSE", "Filters", "StaleCounts", "figures", "filters_from_args", "local_bounds",
           "response_outcome"]


class StaleCounts(DomainError):
    """The counts were made for another time zone than the center's: they must be rebuilt."""

    code = "stale_counts"
    status = 503
    default_message = _l("The dashboard's counts were made for another time zone. An operator "
                         "rebuilds them with: crm dashboard rebuild")


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters: inquiries created from ``start`` to ``end`` (local dates, both
    included; None: no limit) in ``center`` (None: every center the reader sees)."""

    start: date | None = None
    end: date | None = None
    center: Center | None = None


def _date(value: str | None, name: str, errors: dict) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        errors[name] = _l("Use a date like 2026-01-31.")
        return None
    return day


def filters_from_args(args: Mapping) -> Filters:
    """``from``, ``to`` (ISO dates) and ``center`` (a center's key) from a query string; a bad
    value is a ``ValidationError`` naming it."""
    errors: dict = {}
    start = _date(args.get("from"), "from", errors)
    end = _date(args.get("to"), "to", errors)
    if start and end and start > end:
        errors["to"] = _l("The end comes before the start.")
    center = None
    key = (args.get("center") or "").strip()
    if key:
        center = db.session.scalar(select(Center).where(Center.key == key[:40]))
        if center is None:
            errors["center"] = _l("Choose one of the centers offered.")
    if errors:
        raise ValidationError(fields=errors)
    return Filters(start=start, end=end, center=center)


def local_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC instants of local midnight at ``start`` and after ``end``."""
    local = zone()

    def midnight(day):
        return datetime.combine(day, time(0), local).astimezone(timezone.utc)
    return (midnight(start) if start else None, midnight(end + ONE_DAY) if end else None)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (_month_start(day) + timedelta(days=32)).replace(day=1)


def segments(start: date, end: date) -> list[tuple[str, date, date]]:
    """The fewest count periods covering the days ``start``…``end``: ``(period, first, last)``
    runs of whole months in the middle, whole weeks around them, single days at the ends."""
    out: list[tuple[str, date, date]] = []
    after = end + ONE_DAY
    first_month = start if start.day == 1 else _next_month(start)
    past_months = _month_start(after)
    if first_month < past_months:
        _weeks_and_days(start, first_month, out)
        last_month = _month_start(past_months - ONE_DAY)
        out.append((MONTH, first_month, last_month))
        _weeks_and_days(past_months, after, out)
    else:
        _weeks_and_days(start, after, out)
    return out


def _weeks_and_days(first: date, after: date, out: list) -> None:
    if first >= after:
        return
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    weeks = (after - monday).days // 7 if monday < after else 0
    if weeks < 1:
        out.append(("d", first, after - ONE_DAY))
        return
    if monday > first:
        out.append(("d", first, monday - ONE_DAY))
    last_week = monday + timedelta(weeks=weeks - 1)
    out.append((WEEK, monday, last_week))
    if last_week + timedelta(days=7) < after:
        out.append(("d", last_week + timedelta(days=7), after - ONE_DAY))


def _covers(segs, period: str, start: date) -> bool:
    return any(p == period and a <= start <= b for p, a, b in segs)


@dataclass
class _Scope:
    """The reader's cases, split for the counts: whole centers (None: all of them; 0 is the
    unrouted cases) and the cases seen beyond them (a coordinator's own cases in other
    centers), counted directly. Together they are exactly ``inquiry_scope`` (with the center
    filter), the one visibility rule."""

    centers: list[int] | None
    extra: object | None

    def of_centers(self, column):
        return true() if self.centers is None else column.in_(self.centers) if self.centers else false()


def _scope(user: User, center: Center | None, centers: dict[int, Center]) -> _Scope:
    if user.role == "manager":
        return _Scope(centers=None if center is None else [center.id], extra=None)
    whole = {0} | {c.id for c in user.centers}
    allowed = whole & {center.id} if center is not None else whole
    # Beyond whole centers the rule lets a coordinator see their own cases: looked up center by
    # center on the index (coordinator, center). The tests check that both parts together are
    # exactly ``inquiry_scope``.
    others = sorted(set(centers) - whole) if center is None else [center.id] if center.id not in whole else []
    extra = and_(Inquiry.coordinator_id == user.id, Inquiry.center_id.in_(others), inquiry_scope(user))
    return _Scope(centers=sorted(allowed), extra=extra if others else None)


def _trend_days(filters: Filters, today: date) -> list[tuple[date, date, date]]:
    """The trends' weeks: (Monday, first day, last day counted), the days within the range."""
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    last = min(end, max(today, start))
    last_week = last - timedelta(days=last.weekday())
    earliest = last_week - timedelta(weeks=(TREND_WEEKS if filters.start is None else TREND_MAX_WEEKS) - 1)
    first_week = max(earliest, start - timedelta(days=start.weekday()))
    weeks = []
    week = first_week
    while week <= last_week:
        weeks.append((week, max(week, start), min(week + timedelta(days=6), end)))
        week += timedelta(days=7)
    return weeks


def figures(user: User, filters: Filters = Filters(), *, now: datetime | None = None) -> dict:
    """Every figure of the dashboard for ``user`` (a manager: every center; a coordinator: the
    cases they may see), over the inquiries created in the range and center of ``filters``;
    the workload (open cases, overdue tasks) is as it stands now, in the center filter only.

    :raises Forbidden: the user sees no cases (admins).
    :raises StaleCounts: the counts were made in another time zone.
    """
    if user is None or not user.is_active or not user.sees_cases:
        raise Forbidden()
    write_counts(db.session())  # what this session's transaction changed, if anything
    now = now or utcnow()
    local = zone()
    today = now.astimezone(local).date()
    this_week = today - timedelta(days=today.weekday())
    hour = hour_of(now)
    centers = {c.id: c for c in db.session.scalars(select(Center))}
    scope = _scope(user, filters.center, centers)
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    segs = segments(start, end)
    trend = _trend_days(filters, today)
    trend_segs: list = []
    if trend:  # whole weeks, days at either end: a few index ranges
        _weeks_and_days(trend[0][1], trend[-1][2] + ONE_DAY, trend_segs)
    C = DashboardCount

    def rows_in(segments_, *columns, where=()):
        """The count rows of the periods ``segments_``: one index range each, added up after."""
        parts = [select(*columns).where(C.period == p, C.start.between(a, b), *where)
                 for p, a, b in segments_] or [select(*columns).where(false())]
        return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()

    in_scope = scope.of_centers(C.center_id)
    totals: dict[str, Counter] = defaultdict(Counter)
    by_center: Counter = Counter()
    zones = list(db.session.scalars(select(C.value).where(C.period == ZONE)))
    if zones != [local.key]:
        raise StaleCounts()
    ranged = rows_in(segs, C.dim, C.value, C.center_id, C.n, where=(in_scope, C.dim != "coordinator"))
    center_of_total = case((ranged.c.dim == "total", ranged.c.center_id), else_=-1)
    for dim, value, center_id, n in db.session.execute(
            select(ranged.c.dim, ranged.c.value, center_of_total, func.sum(ranged.c.n))
            .group_by(ranged.c.dim, ranged.c.value, center_of_total)):
        totals[dim][value] += int(n)
        if dim == "total":
            by_center[center_id] += int(n)
    now_counts: dict[str, Counter] = defaultdict(Counter)
    for dim, value, n in db.session.execute(
            select(C.dim, C.value, func.sum(C.n))
            .where(C.period == MONTH, C.dim.in_(("stage", "coordinator")), in_scope)
            .group_by(C.dim, C.value)):
        now_counts[dim][value] += int(n)
    by_day: dict[tuple[str, date], dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    week_segs = list(trend_segs)
    if not _covers(trend_segs, WEEK, this_week):
        week_segs.append((WEEK, this_week, this_week))
    weekly = rows_in(week_segs, C.period, C.start, C.dim, C.value, C.n,
                     where=(in_scope, C.dim.in_(("total", "response"))))
    for period, first, dim, value, n in db.session.execute(
            select(weekly.c.period, weekly.c.start, weekly.c.dim, weekly.c.value, func.sum(weekly.c.n))
            .group_by(weekly.c.period, weekly.c.start, weekly.c.dim, weekly.c.value)):
        by_day[(period, first)][dim][value] += int(n)
    T = OpenTaskCount
    overdue: Counter = Counter()
    for assignee_id, n in db.session.execute(
            select(T.assignee_id, func.sum(T.n))
            .where(T.due_hour < hour, T.is_paused.is_(False), scope.of_centers(T.center_id))
            .group_by(T.assignee_id)):
        overdue[assignee_id] += int(n)

    # a coordinator's own cases in other centers, counted directly
    if scope.extra is not None:
        ids = list(db.session.scalars(select(Inquiry.id).where(scope.extra)))
        if ids:
            extra = contributions(db.session.connection(), ids, local=local)
            for (day, center_id, dim, value), n in extra.counts.items():
                if start <= day <= end:
                    totals[dim][value] += n
                    if dim == "total":
                        by_center[center_id] += n
                if dim in ("stage", "coordinator"):
                    now_counts[dim][value] += n
                if dim in ("total", "response"):
                    for period, first in periods_of(day):
                        if _covers(trend_segs, period, first) or (period == WEEK and first == this_week):
                            by_day[(period, first)][dim][value] += n
            for (_center, assignee_id, due_hour, paused), n in extra.tasks.items():
                if due_hour < hour and not paused:
                    overdue[assignee_id] += n

    # what fell due within this hour, up to now: the tasks themselves
    lo, hi = local_bounds(filters.start, filters.end)
    earlier = aliased(Task)
    none_earlier = ~exists().where(earlier.inquiry_id == Task.inquiry_id, earlier.kind == FIRST_RESPONSE,
                                   earlier.id < Task.id)
    is_first = case((and_(Task.kind == FIRST_RESPONSE, none_earlier), 1), else_=0)
    live = select(Task.kind, Task.assignee_id, Task.paused_at, Inquiry.created_at, is_first) \
        .join(Inquiry, Inquiry.id == Task.inquiry_id) \
        .where(Task.state == OPEN, Task.due_at >= hour, Task.due_at < now, inquiry_scope(user))
    if filters.center is not None:
        live = live.where(Inquiry.center_id == filters.center.id)
    late_now: Counter = Counter()  # first responses late since this hour began, by week
    for _kind, assignee_id, paused_at, created_at, first in db.session.execute(live):
        if paused_at is None:
            overdue[assignee_id or 0] += 1
        if first and (lo is None or created_at >= lo) and (hi is None or created_at < hi):
            day = created_at.astimezone(local).date()
            late_now[day - timedelta(days=day.weekday())] += 1

    hour_key = hour.strftime("%Y-%m-%dT%H")
    response = _responses(totals["response"], sum(late_now.values()), hour_key)
    weeks_new, weeks_response = [], []
    per_week: dict[date, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for (period, first), found in by_day.items():
        if _covers(trend_segs, period, first):
            for dim, values in found.items():
                per_week[first - timedelta(days=first.weekday())][dim].update(values)
    for week, _first, _last in trend:
        rows = per_week[week]
        weeks_new.append({"week": week, "count": rows["total"][""]})
        weeks_response.append({"week": week, **_responses(rows["response"], late_now[week], hour_key)})

    open_by = {int(k): n for k, n in now_counts["coordinator"].items() if n}
    staff = set(open_by) | {k for k, n in overdue.items() if n}
    names = {uid: name for uid, name in db.session.execute(
        select(User.id, User.name).where(User.id.in_(staff - {0})))} if staff - {0} else {}
    workload = [{"coordinator_id": uid or None, "name": names.get(uid), "open_cases": open_by.get(uid, 0),
                 "overdue_tasks": overdue.get(uid, 0)} for uid in staff]
    workload.sort(key=lambda row: (-row["overdue_tasks"], -row["open_cases"], row["name"] or ""))

    total = totals["total"][""]
    reached = {stage: sum(n for s, n in totals["furthest"].items() if s in OPEN_STAGES
                          and OPEN_STAGES.index(s) >= OPEN_STAGES.index(stage)) for stage in OPEN_STAGES}
    return {
        "filters": {"from": filters.start, "to": filters.end,
                    "center": filters.center.key if filters.center else None},
        "as_of": now,
        "total": total,
        "new_this_week": by_day[(WEEK, this_week)]["total"][""],
        "open_cases": sum(now_counts["stage"][s] for s in OPEN_STAGES),
        "overdue_tasks": sum(overdue.values()),
        "by_stage": {stage: totals["stage"][stage] for stage in STAGES},
        "funnel": reached,
        "conversion": {"reached_care": reached[CARE], "total": total,
                       "share": reached[CARE] / total if total else None},
        "by_center": {**{centers[cid].key if cid in centers else str(cid): n
                         for cid, n in sorted(by_center.items()) if n and cid},
                      **({UNROUTED: by_center[0]} if by_center[0] else {})},
        "by_country": _sorted({(k or UNKNOWN): n for k, n in totals["country"].items() if n}),
        "by_language": _sorted({(k or UNKNOWN): n for k, n in totals["language"].items() if n}),
        "by_source": {source: totals["source"][source] for source in SOURCES},
        "median_days_in_stage": {stage: _median(totals[f"stay:{stage}"]) for stage in OPEN_STAGES},
        "stays": {stage: sum(totals[f"stay:{stage}"].values()) for stage in OPEN_STAGES},
        "first_response_sla": response["share"],
        "first_response": response,
        "new_by_week": weeks_new,
        "first_response_by_week": weeks_response,
        "workload": workload,
    }


def _sorted(counts: dict) -> dict:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _responses(values: Counter, late_this_hour: int, hour_key: str) -> dict:
    """First responses on time, late and still to come, from the counts' outcomes: an
    unanswered case is late once its hour is past, and within this hour once it is due."""
    on_time = late = pending = this_hour = 0
    for value, n in values.items():
        if value == "on_time":
            on_time += n
        elif value == "late":
            late += n
        elif value.startswith("open:"):
            due = value[5:]
            if due < hour_key:
                late += n
            elif due == hour_key:
                this_hour += n
            else:
                pending += n
    late += late_this_hour
    pending += this_hour - late_this_hour
    answered = on_time + late
    return {"on_time": on_time, "late": late, "pending": pending,
            "share": on_time / answered if answered else None}


def _median(histogram: Counter) -> float | None:
    """The median of whole days from ``{days: how many stays}`` (the mean of the two middle
    stays when their number is even)."""
    items = sorted((int(days), n) for days, n in histogram.items() if n > 0)
    count = sum(n for _d, n in items)
    if not count:
        return None
    wanted, found, seen = ((count - 1) // 2, count // 2), [], 0
    for days, n in items:
        while len(found) < 2 and wanted[len(found)] < seen + n:
            found.append(days)
        seen += n
    return (found[0] + found[1]) / 2


def as_json(figures: dict) -> dict:
    """``figures`` with its dates and times as ISO 8601 strings (for the API)."""
    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value
    return plain(figures)
