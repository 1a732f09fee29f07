"""The dashboard's figures equal direct counts of the cases, whatever wrote them (intake, moves,
closing and reopening, routing, merges, patient edits, mail, the demo loader, the sweeps), in
each reader's scope; the kept counts equal a recount from scratch; a fixed number of queries."""
from __future__ import annotations

import statistics
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, or_, select, update

from crm.extensions import db as _db
from crm.models import Center, Inquiry, Patient, StageChange, Task, User
from crm.models.base import utcnow
from crm.models.dashboard import DashboardCount, OpenTaskCount
from crm.models.inquiry import SOURCES
from crm.services import (dashboard, dashboard_counts, duplicates, followups, intake, mailbox, pipeline,
                          routing)
from crm.services.errors import DomainError, Forbidden, ValidationError
from crm.services.pipeline import CLOSED, OPEN_STAGES
from crm.services.visibility import inquiry_scope
from tests import mail_samples
from tests.conftest import PASSWORD

ONE_DAY = timedelta(days=1)


# --- the direct counts: plain queries over the cases, nothing kept ---------------------------

def direct(user, *, start=None, end=None, center=None, now):
    """Every figure of ``dashboard.figures`` counted straight from the cases."""
    zone = dashboard_counts.zone()
    scope = [inquiry_scope(user)] + ([Inquiry.center_id == center.id] if center else [])
    lo, hi = dashboard.local_bounds(start, end)
    ranged = scope + ([Inquiry.created_at >= lo] if lo else []) + ([Inquiry.created_at < hi] if hi else [])
    session = _db.session

    def grouped(column, *joins, where=ranged):
        stmt = select(column, func.count(Inquiry.id)).select_from(Inquiry)
        for target, on in joins:
            stmt = stmt.join(target, on)
        return {key: n for key, n in session.execute(stmt.where(*where).group_by(column))}

    patient = (Patient, Patient.id == Inquiry.patient_id)
    keys = {c.id: c.key for c in session.scalars(select(Center))}
    total = session.scalar(select(func.count(Inquiry.id)).where(*ranged))
    funnel = {}
    for stage in OPEN_STAGES:
        later = OPEN_STAGES[OPEN_STAGES.index(stage):]
        funnel[stage] = session.scalar(select(func.count(Inquiry.id)).where(*ranged, or_(
            Inquiry.stage.in_(later),
            select(StageChange.id).where(StageChange.inquiry_id == Inquiry.id,
                                         StageChange.to_stage.in_(later)).exists())))
    following = func.lead(StageChange.created_at, type_=StageChange.created_at.type).over(
        partition_by=StageChange.inquiry_id, order_by=StageChange.id)
    stays = select(StageChange.inquiry_id, StageChange.to_stage, StageChange.created_at,
                   following.label("left")).subquery()
    days: dict[str, list[int]] = {stage: [] for stage in OPEN_STAGES}
    for stage, entered, left in session.execute(
            select(stays.c.to_stage, stays.c.created_at, stays.c.left)
            .join(Inquiry, Inquiry.id == stays.c.inquiry_id)
            .where(*ranged, stays.c.left.is_not(None), stays.c.to_stage != CLOSED)):
        days[stage].append(max(0, (_aware(left) - _aware(entered)) // ONE_DAY))
    first = select(func.min(Task.id)).where(Task.kind == "first_response").group_by(Task.inquiry_id)
    responses = Counter()
    by_week = Counter()
    for state, due, completed, created in session.execute(
            select(Task.state, Task.due_at, Task.completed_at, Inquiry.created_at)
            .join(Inquiry, Inquiry.id == Task.inquiry_id).where(Task.id.in_(first), *ranged)):
        outcome = _outcome(state, due, completed, now)
        responses[outcome] += 1
        day = created.astimezone(zone).date()
        by_week[(day - timedelta(days=day.weekday()), outcome)] += 1
    answered = responses["on_time"] + responses["late"]
    created_weeks = Counter()
    for (created,) in session.execute(select(Inquiry.created_at).where(*ranged)):
        day = created.astimezone(zone).date()
        created_weeks[day - timedelta(days=day.weekday())] += 1
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    this_week = session.scalar(select(func.count(Inquiry.id)).where(
        *scope, Inquiry.created_at >= dashboard.local_bounds(monday, None)[0]))
    overdue = {key or None: n for key, n in session.execute(
        select(Task.assignee_id, func.count(Task.id)).join(Inquiry, Inquiry.id == Task.inquiry_id)
        .where(*scope, Task.state == "open", Task.paused_at.is_(None), Task.due_at < now)
        .group_by(Task.assignee_id))}
    open_cases = grouped(Inquiry.coordinator_id, where=scope + [Inquiry.stage != CLOSED])
    return {
        "total": total,
        "by_stage": {s: grouped(Inquiry.stage).get(s, 0) for s in pipeline.STAGES},
        "by_center": {(keys[k] if k else "unrouted"): n for k, n in grouped(Inquiry.center_id).items()},
        "by_country": {(k or "unknown"): n for k, n in grouped(Patient.country, patient).items()},
        "by_language": {(k or "unknown"): n for k, n in grouped(Patient.preferred_language, patient).items()},
        "by_source": {s: grouped(Inquiry.source).get(s, 0) for s in SOURCES},
        "funnel": funnel,
        "median_days_in_stage": {s: (float(statistics.median(v)) if v else None) for s, v in days.items()},
        "first_response": {"on_time": responses["on_time"], "late": responses["late"],
                           "pending": responses["pending"],
                           "share": responses["on_time"] / answered if answered else None},
        "new_this_week": this_week,
        "open_cases": sum(open_cases.values()),
        "overdue_tasks": sum(overdue.values()),
        "workload_open": {k: n for k, n in open_cases.items()},
        "workload_overdue": overdue,
        "weeks_new": created_weeks,
        "weeks_response": by_week,
    }


def _aware(moment):
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _outcome(state, due, completed, now):
    if state == "open":
        return "late" if due < now else "pending"
    if state == "done":
        return "on_time" if completed <= due else "late"
    return "late" if completed > due else "none"


def assert_agrees(user, now, **filters):
    """``figures`` for ``user`` and ``filters`` equals the direct counts, figure by figure."""
    got = dashboard.figures(user, dashboard.Filters(**filters), now=now)
    want = direct(user, now=now, **filters)
    for key in ("total", "by_stage", "by_center", "by_country", "by_language", "by_source", "funnel",
                "median_days_in_stage", "first_response", "new_this_week", "open_cases", "overdue_tasks"):
        assert got[key] == want[key], key
    assert got["first_response_sla"] == want["first_response"]["share"]
    assert got["conversion"]["reached_care"] == want["funnel"]["in_care"]
    workload = {row["coordinator_id"]: row for row in got["workload"]}
    assert {k: r["open_cases"] for k, r in workload.items() if r["open_cases"]} == want["workload_open"]
    overdue = {k: r["overdue_tasks"] for k, r in workload.items() if r["overdue_tasks"]}
    assert overdue == want["workload_overdue"]
    for week in got["new_by_week"]:
        assert week["count"] == want["weeks_new"][week["week"]], week
    for week in got["first_response_by_week"]:
        assert (week["on_time"], week["late"], week["pending"]) == tuple(
            want["weeks_response"][(week["week"], k)] for k in ("on_time", "late", "pending")), week
    return got


def kept_counts():
    """The counters as kept (zeros left out)."""
    rows = _db.session.execute(select(DashboardCount.period, DashboardCount.start, DashboardCount.center_id,
                                      DashboardCount.dim, DashboardCount.value, DashboardCount.n)
                               .where(DashboardCount.n != 0)).all()
    T = OpenTaskCount
    tasks = _db.session.execute(select(T.center_id, T.assignee_id, T.due_hour, T.is_paused, T.n)
                                .where(T.n != 0)).all()
    return ({tuple(r[:-1]): r[-1] for r in rows}, {tuple(r[:-1]): r[-1] for r in tasks})


def assert_kept_equals_recount():
    kept = kept_counts()
    dashboard_counts.rebuild(_db.session)
    assert kept_counts() == kept


# --- a pipeline with some of everything ---------------------------------------------------------

@pytest.fixture
def staff(factory):
    return {
        "manager": factory.user(role="manager", name="Mona Manager"),
        "cardio": factory.user(centers=("cardiology",), name="Carla Cardio"),
        "neuro": factory.user(centers=("neurology",), name="Nadia Neuro", languages=("ar", "en")),
        "admin": factory.user(role="admin", name="Adam Admin"),
    }


def move(inquiry, *stages, actor, outcome=None):
    for stage in stages:
        pipeline.transition_inquiry(inquiry, stage, actor=actor, expected_version=inquiry.version,
                                    outcome=outcome if stage == CLOSED else None)
        _db.session.commit()


def advance_by_hand(inquiry, *stages):
    """Moves written as a history import would (past the clinical review's gate)."""
    for stage in stages:
        now, previous = utcnow(), inquiry.stage
        _db.session.add(StageChange(inquiry=inquiry, from_stage=previous, to_stage=stage, created_at=now))
        inquiry.stage, inquiry.stage_entered_at = stage, now
        inquiry.bump_version()
        followups.on_stage_change(inquiry, previous, stage, actor=None, at=now)
        _db.session.commit()


def build_pipeline(factory, staff):
    """Cases made and moved through every path that changes a count."""
    manager, cardio, neuro = staff["manager"], staff["cardio"], staff["neuro"]
    made = [factory.inquiry(center="cardiology", country="SA", preferred_language="ar", source="phone"),
            factory.inquiry(center="cardiology", country="BR", preferred_language="pt-BR", source="web_form"),
            factory.inquiry(center="neurology", country="MX", preferred_language="es", source="referral"),
            factory.inquiry(center="neurology", country="SA", preferred_language="ar", source="email"),
            factory.inquiry(center=None, reason="I would like advice", country="CN",
                            preferred_language="zh-Hans", source="api"),
            factory.inquiry(center="cardiology", service="second_opinion_online", country="FR",
                            preferred_language="fr", source="phone")]
    a, b, c, d, unrouted, online = made
    move(a, "intake", "records", actor=manager)
    followups.complete_task(next(t for t in a.tasks if t.kind == "records_chase"), actor=cardio)
    _db.session.commit()
    move(a, "intake", actor=manager)  # one step back
    move(b, CLOSED, actor=manager, outcome="no_response")  # closed unanswered
    move(b, "new", actor=manager)  # reopened by a manager
    move(c, "intake", "records", "clinical_review", actor=manager)
    move(online, "intake", "records", "clinical_review", actor=manager)
    advance_by_hand(online, "financial_clearance", "in_care", "follow_up")
    move(online, CLOSED, actor=manager, outcome="completed")
    # routing by hand: the counts of every kind follow the case to its new center
    routing.route_by_hand(d, factory.center("cardiology"), actor=manager, expected_version=d.version)
    _db.session.commit()
    intake.update_inquiry(c, {"coordinator_id": cardio.id}, actor=manager, expected_version=c.version)
    _db.session.commit()
    # the patient's country and language change: all of their cases move
    intake.update_patient(a.patient, {"country": "AE", "preferred_language": "en"}, actor=manager,
                          expected_version=a.patient.version)
    _db.session.commit()
    # two records of one person merged: the duplicate's case counts under the survivor's country
    dup = factory.inquiry(center="neurology", country="EG", preferred_language="ar", source="phone")
    duplicates.merge_patients(c.patient, dup.patient, actor=manager,
                              expected_versions=(c.patient.version, dup.patient.version))
    _db.session.commit()
    # a case arrived weeks ago
    a.created_at = utcnow() - timedelta(days=40)
    _db.session.commit()
    # mail: the import's own fast write
    mail = mail_samples.plain(sender="Omar <omar@example.org>", message_id="<dash-1@example.org>")
    assert mailbox.ingest(mail, source="file") == "created"
    _db.session.commit()
    return made


def test_figures_equal_direct_counts_after_every_kind_of_write(app, db, factory, staff):
    build_pipeline(factory, staff)
    manager, cardio, neuro = staff["manager"], staff["cardio"], staff["neuro"]
    now = utcnow()
    for when in (now, now + timedelta(days=4)):  # before and after the first answers fall due
        for user in (manager, cardio, neuro):
            assert_agrees(user, when)
            assert_agrees(user, when, center=factory.center("cardiology"))
            today = now.astimezone(dashboard_counts.zone()).date()
            assert_agrees(user, when, start=today - timedelta(days=10), end=today)
            assert_agrees(user, when, start=today - timedelta(days=60), end=today - timedelta(days=20))
    got = assert_agrees(manager, now)
    assert got["total"] == 8 and got["by_stage"]["closed"] == 1 and got["by_center"]["cardiology"] == 4
    assert got["by_country"]["AE"] == 1 and "EG" not in got["by_country"]  # edited, merged
    assert got["funnel"]["in_care"] == 1 and got["conversion"]["share"] == pytest.approx(1 / 8)
    assert_kept_equals_recount()


def test_the_demo_loader_and_the_sweeps_are_counted(app, db, factory, staff):
    from crm.jobs import sweeps
    from crm.services.demo import load_demo
    load_demo(150, seed=4)
    manager = staff["manager"]
    now = utcnow()
    got = assert_agrees(manager, now)
    assert got["total"] == 150 and got["first_response"]["on_time"] > 0
    assert got["median_days_in_stage"]["intake"] is not None
    later = now + timedelta(days=10)
    assert sweeps.detect_stalled_cases(later) > 0  # tasks written in one bulk INSERT
    sweeps.escalate_overdue_tasks(later)  # a bulk UPDATE of a column no count reads
    db.session.commit()
    assert_agrees(manager, later)
    today = now.astimezone(dashboard_counts.zone()).date()
    for start, end in ((today - timedelta(days=100), today - timedelta(days=3)),
                       (date(today.year, today.month, 1) - timedelta(days=70), today)):
        assert_agrees(manager, later, start=start, end=end)
        assert_agrees(manager, later, start=start, end=end,
                      center=db.session.scalar(select(Center).where(Center.key == "cancer")))
    assert_kept_equals_recount()


def test_medians_are_of_whole_days_in_each_stage(app, db, factory, staff):
    manager = staff["manager"]
    cases = [factory.inquiry() for _ in range(3)]
    for case in cases:
        move(case, "intake", actor=manager)
    start = utcnow() - timedelta(days=30)
    for case, days_in_new in zip(cases, (1.5, 3.2, 10.9)):  # whole days: 1, 3, 10
        first, second = sorted(case.stage_changes, key=lambda c: c.id)
        first.created_at, second.created_at = start, start + timedelta(days=days_in_new)
    db.session.commit()
    got = dashboard.figures(manager)
    assert got["median_days_in_stage"]["new"] == 3.0 and got["median_days_in_stage"]["intake"] is None
    move(cases[0], "new", actor=manager)  # back: its stay in intake, from 28.5 days ago, ends
    got = dashboard.figures(manager)
    assert got["stays"]["intake"] == 1 and got["median_days_in_stage"]["intake"] == 28.0
    assert_kept_equals_recount()


def test_first_response_on_time_late_and_unanswered(app, db, factory, staff):
    manager = staff["manager"]
    on_time, late, waiting = factory.inquiry(), factory.inquiry(), factory.inquiry()
    move(on_time, "intake", actor=manager)
    task = next(t for t in late.tasks if t.kind == "first_response")
    task.due_at = utcnow() - timedelta(hours=1)  # it was due an hour ago
    db.session.commit()
    move(late, "intake", actor=manager)
    got = dashboard.figures(manager)
    assert got["first_response"] == {"on_time": 1, "late": 1, "pending": 1, "share": 0.5}
    # unanswered: late once its deadline passes, within the hour too
    due = next(t for t in waiting.tasks if t.kind == "first_response").due_at
    assert dashboard.figures(manager, now=due - timedelta(minutes=1))["first_response"]["late"] == 1
    assert dashboard.figures(manager, now=due + timedelta(minutes=1))["first_response"]["late"] == 2
    assert dashboard.figures(manager, now=due + timedelta(hours=3))["first_response"]["late"] == 2
    assert dashboard.figures(manager, now=due + timedelta(minutes=1))["overdue_tasks"] >= 1


def test_coordinators_see_their_centers_and_their_own_cases_only(app, db, factory, staff):
    manager, cardio = staff["manager"], staff["cardio"]
    factory.inquiry(center="cardiology")
    elsewhere = factory.inquiry(center="neurology")
    factory.inquiry(center="neurology")
    intake.update_inquiry(elsewhere, {"coordinator_id": cardio.id}, actor=manager,
                          expected_version=elsewhere.version)
    db.session.commit()
    got = assert_agrees(cardio, utcnow())
    assert got["total"] == 2 and got["by_center"] == {"cardiology": 1, "neurology": 1}
    neurology = db.session.scalar(select(Center).where(Center.key == "neurology"))
    assert assert_agrees(cardio, utcnow(), center=neurology)["total"] == 1
    assert dashboard.figures(manager)["total"] == 3


def test_admins_see_no_figures(app, db, factory, staff):
    factory.inquiry()
    with pytest.raises(Forbidden):
        dashboard.figures(staff["admin"])


@pytest.mark.parametrize("args, field", [
    ({"from": "yesterday"}, "from"), ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-03-01", "to": "2026-02-01"}, "to"), ({"center": "astrology"}, "center"),
    ({"from": "0001-01-01"}, "from")])
def test_bad_filters_name_the_field(app, db, args, field):
    with pytest.raises(ValidationError) as error:
        dashboard.filters_from_args(args)
    assert list(error.value.fields) == [field]


def test_date_ranges_use_the_fewest_periods():
    segs = dashboard.segments(date(2026, 1, 7), date(2026, 5, 20))
    assert [period for period, _a, _b in segs] == ["d", "w", "d", "m", "d", "w", "d"]
    assert ("m", date(2026, 2, 1), date(2026, 4, 1)) in segs
    assert _covered(segs) == _days(date(2026, 1, 7), date(2026, 5, 20))
    for start, end in ((date(2026, 1, 1), date(2026, 1, 1)), (date(2025, 12, 29), date(2026, 3, 31)),
                       (date(2026, 2, 3), date(2026, 2, 25)), (date(2026, 2, 1), date(2026, 2, 28))):
        assert _covered(dashboard.segments(start, end)) == _days(start, end)
    everything = dashboard.segments(date(1900, 1, 1), date(2999, 12, 31))
    assert everything == [("m", date(1900, 1, 1), date(2999, 12, 1))]


def _days(start, end):
    return {start + timedelta(days=i) for i in range((end - start).days + 1)}


def _covered(segs):
    days = []
    for period, first, last in segs:
        step = {"d": 1, "w": 7}.get(period)
        start = first
        while start <= last:
            if period == "m":
                after = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
            else:
                after = start + timedelta(days=step)
            days += [start + timedelta(days=i) for i in range((after - start).days)]
            start = after
    assert len(days) == len(set(days)), "a day counted twice"
    return set(days)


def test_a_fixed_number_of_queries_whatever_the_size(app, db, factory, staff):
    from crm.services.demo import load_demo
    manager = staff["manager"]

    def queries():
        seen = []
        listener = lambda _conn, _cursor, statement, *args: seen.append(statement)  # noqa: E731
        event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            dashboard.figures(manager)
        finally:
            event.remove(_db.engine, "before_cursor_execute", listener)
        return seen

    load_demo(20, seed=1)
    small = queries()
    load_demo(200, seed=2)
    # nine reads (the counts' time zone, the ranges, now, the weeks, the tasks, this hour's tasks,
    # centers, names); the savepoint and the reader's reload around them
    assert len(queries()) == len(small) <= 11


def test_bulk_writes_the_counts_cannot_follow_are_refused(app, db, factory):
    factory.inquiry()
    with pytest.raises(dashboard_counts.UntrackedWrite):
        db.session.execute(update(Inquiry).values(stage="intake"))


def _cases_at_the_revision_before(connection, count: int = 60) -> None:
    """Cases written as they were before the counts existed (plain SQL, the columns of then)."""
    import random
    from datetime import datetime, timezone
    import sqlalchemy as sa

    def table(name, *columns):
        return sa.table(name, *[sa.column(c, sa.DateTime(timezone=True)) if c.endswith("_at")
                                else sa.column(c) for c in columns])
    centers = table("centers", "id", "key", "names", "keywords", "position", "is_active")
    patients = table("patients", "id", "given_name", "family_name", "country", "preferred_language",
                     "search_text", "name_key", "created_at", "updated_at", "version")
    inquiries = table("inquiries", "id", "patient_id", "service", "stage", "center_id", "coordinator_id",
                      "source", "reason", "created_at", "updated_at", "stage_entered_at", "version")
    changes = table("stage_changes", "id", "inquiry_id", "from_stage", "to_stage", "note", "created_at")
    tasks = table("tasks", "id", "inquiry_id", "kind", "state", "due_at", "note", "created_at",
                  "completed_at")
    rng = random.Random(3)
    start = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    connection.execute(centers.insert(), [{"id": i, "key": f"c{i}", "names": "{}", "keywords": "{}",
                                           "position": i, "is_active": True} for i in (1, 2)])
    for n in range(1, count + 1):
        created = start + timedelta(hours=rng.randrange(2000))
        steps = OPEN_STAGES[:rng.randrange(1, 6)]
        connection.execute(patients.insert().values(
            id=n, given_name="A", family_name=str(n), country=rng.choice(["SA", "MX", None]),
            preferred_language=rng.choice(["ar", "es"]), search_text="", name_key="", created_at=created,
            updated_at=created, version=1))
        connection.execute(inquiries.insert().values(
            id=n, patient_id=n, service="treatment", stage=steps[-1], center_id=rng.choice([1, 2, None]),
            source=rng.choice(["email", "phone"]), reason="", created_at=created, updated_at=created,
            stage_entered_at=created, version=1))
        at = created
        for index, stage in enumerate(steps):
            connection.execute(changes.insert().values(
                inquiry_id=n, from_stage=steps[index - 1] if index else None, to_stage=stage, note="",
                created_at=at))
            at += timedelta(hours=rng.randrange(1, 200))
        done = len(steps) > 1
        connection.execute(tasks.insert().values(
            inquiry_id=n, kind="first_response", state="done" if done else "open", note="",
            created_at=created, due_at=created + timedelta(hours=20),
            completed_at=created + timedelta(hours=rng.randrange(1, 40)) if done else None))


def test_the_migration_counts_the_cases_already_there(fresh_app):
    """A database upgraded to the counts' revision with cases in it has them counted."""
    from flask_migrate import upgrade
    app = fresh_app(migrated=False)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"], revision="8a4c17b7081f")
        with _db.engine.begin() as connection:
            _cases_at_the_revision_before(connection)
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        kept = kept_counts()
        assert kept[0] and kept[1]
        dashboard_counts.rebuild(_db.session)
        assert kept_counts() == kept
        _db.session.rollback()


def test_concurrent_writers_keep_the_counts_exact(fresh_app):
    app = fresh_app()
    with app.app_context():
        from crm.services.users import create_user
        manager = create_user("boss@itinera.example", name="Boss", role="manager", password=PASSWORD)
        _db.session.commit()
        ids = []
        for n in range(8):
            case = intake.create_inquiry({
                "given_name": "P", "family_name": f"Q{n}", "email": f"p{n}@example.com",
                "service": "treatment", "reason": "heart", "center": "cardiology", "country": "SA"},
                source="phone")
            _db.session.commit()
            ids.append(case.id)
        manager_id = manager.id
    errors = []

    def worker(n):
        for i in range(6):
            with app.app_context():
                try:
                    actor = _db.session.get(User, manager_id)
                    case = _db.session.get(Inquiry, ids[(n + i) % len(ids)])
                    moves = pipeline.allowed_moves(case, actor)
                    to = moves[i % len(moves)]
                    pipeline.transition_inquiry(case, to, actor=actor, expected_version=case.version,
                                                outcome="completed" if to == CLOSED else None)
                    intake.create_inquiry({
                        "given_name": "N", "family_name": f"{n}-{i}", "phone": "+1 617 555 0100",
                        "service": "surgery", "reason": "knee", "center": "orthopaedics", "country": "BR"},
                        source="web_form")
                    if i % 3 == 0:  # the shared patient's country: all of their cases move
                        patient = _db.session.get(Inquiry, ids[0]).patient
                        intake.update_patient(patient, {"country": ("AE", "QA", "KW")[(n + i) % 3]},
                                              actor=actor, expected_version=patient.version)
                    _db.session.commit()
                except DomainError:  # a stale version, a move refused: the writer's own business
                    _db.session.rollback()
                except Exception as error:  # noqa: BLE001 - anything else fails the test
                    _db.session.rollback()
                    if type(error).__name__ != "StaleDataError":
                        errors.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert_agrees(_db.session.get(User, manager_id), utcnow())
        assert_kept_equals_recount()
        _db.session.rollback()


def _bulk_case(country="SA"):
    """One patient and one inquiry inserted in bulk, as the demo loader and the mail import do."""
    now = utcnow()
    patient_id = (_db.session.scalar(select(func.max(Patient.id))) or 0) + 1
    inquiry_id = (_db.session.scalar(select(func.max(Inquiry.id))) or 0) + 1
    _db.session.execute(Patient.__table__.insert(), [{
        "id": patient_id, "given_name": "Bulk", "family_name": str(patient_id), "country": country,
        "preferred_language": "ar", "search_text": "", "name_key": "", "created_at": now, "updated_at": now,
        "version": 1}])
    _db.session.execute(Inquiry.__table__.insert(), [{
        "id": inquiry_id, "patient_id": patient_id, "service": "treatment", "stage": "new", "source": "email",
        "reason": "", "created_at": now, "updated_at": now, "stage_entered_at": now, "version": 1}])
    _db.session.execute(StageChange.__table__.insert(), [{
        "inquiry_id": inquiry_id, "to_stage": "new", "note": "", "created_at": now}])
    return inquiry_id


def test_bulk_inserts_rolled_back_or_counted_inside_a_savepoint_rolled_back(app, db, staff):
    manager = staff["manager"]
    kept = _bulk_case()
    try:
        with db.session.begin_nested():  # counted here (a change concerns it), then rolled back
            case = db.session.get(Inquiry, kept)
            pipeline.transition_inquiry(case, "intake", actor=manager, expected_version=case.version)
            raise RuntimeError
    except RuntimeError:
        pass
    try:
        with db.session.begin_nested():
            _bulk_case(country="QA")  # never there
            raise RuntimeError
    except RuntimeError:
        pass
    db.session.commit()
    got = assert_agrees(manager, utcnow())
    assert got["total"] == 1 and got["by_stage"]["new"] == 1 and "QA" not in got["by_country"]
    assert_kept_equals_recount()


def test_counts_of_another_time_zone_are_refused_until_rebuilt(app, db, factory, staff, runner):
    factory.inquiry()
    zone = app.config["TIMEZONE"]
    app.config["TIMEZONE"] = "Asia/Riyadh"  # the center's days are not those the counts were made in
    try:
        with pytest.raises(dashboard.StaleCounts):
            dashboard.figures(staff["manager"])
        result = runner.invoke(args=["dashboard", "rebuild"])
        assert result.exit_code == 0 and "inquiries counted: 1" in result.output
        assert assert_agrees(staff["manager"], utcnow())["total"] == 1
    finally:
        app.config["TIMEZONE"] = zone
        dashboard_counts.rebuild(db.session)
