"""Follow-up tasks: the rules that create them, and completing them."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..labels import TASK_LABELS
from ..models import Inquiry, Task, User
from ..models.base import utcnow
from ..models.task import CANCELLED, DONE, OPEN
from . import audit
from .business_hours import BusinessCalendar
from .errors import NotFound
from .visibility import as_id, inquiry_scope


@dataclass(frozen=True)
class Rule:
    """A task of ``kind`` is opened when a case enters ``stage``, due at ``due(calendar, at)``,
    and is done by itself when the case leaves that stage (cancelled when it is closed)."""

    kind: str
    stage: str
    due: Callable[[BusinessCalendar, datetime], datetime]


#: The rules, in one readable table.
RULES = (
    # The patient hears from a person within one business day of writing to us: by the opening
    # of the next business day (an inquiry of Friday evening is answered Monday morning).
    Rule("first_response", "new", lambda cal, at: cal.next_business_morning(at)),
    # Missing records are chased every three business days.
    Rule("records_chase", "records", lambda cal, at: cal.add_business_days(at, 3)),
    # Two weeks after care, a check-in with the patient.
    Rule("post_visit_checkin", "follow_up", lambda cal, at: at + timedelta(days=14)),
)


@dataclass(frozen=True)
class Requirement:
    """Something a case needs from outside (the hospital's registration, say): a task of
    ``kind`` is opened when the case enters ``stage`` while ``missing(inquiry)``, due at
    ``due(calendar, at)``. Unlike a stage's task it stays open through the stages after, until
    an ``EVENTS`` rule closes it (the thing arrived) or the case is closed (cancelled)."""

    kind: str
    stage: str
    missing: Callable[[Inquiry], bool]
    due: Callable[[BusinessCalendar, datetime], datetime]


#: The requirements, in one readable table.
REQUIREMENTS = (
    # The registration center issues the medical record number once the physicians accept the
    # case: it is entered within two business days of financial clearance beginning (the
    # insurer's precertification quotes it); reminded until it is there.
    Requirement("register_mrn", "financial_clearance", lambda inquiry: not inquiry.patient.mrn,
                lambda cal, at: cal.add_business_days(at, 2)),
)
REQUIREMENT_KINDS = tuple(requirement.kind for requirement in REQUIREMENTS)


@dataclass(frozen=True)
class Event:
    """When ``name`` happens on a case, the open tasks of the kinds in ``closes`` are done and,
    when ``opens`` is set, a task of that kind is opened (once), due at ``due(calendar, at)``."""

    name: str
    closes: tuple[str, ...] = ()
    opens: str | None = None
    due: Callable[[BusinessCalendar, datetime], datetime] | None = None


#: What happens on a case, and the tasks it opens and closes, in one readable table.
EVENTS = (
    # The patient wrote (by mail or in the portal): a coordinator answers within a business day.
    Event("patient_wrote", opens="answer_patient", due=lambda cal, at: cal.next_business_morning(at)),
    # A coordinator wrote to the patient: the first response and any pending answer are done.
    Event("coordinator_wrote", closes=("first_response", "answer_patient")),
    # Every record asked for has arrived: no more chasing; a coordinator looks at them.
    Event("records_complete", closes=("records_chase", "call_patient"), opens="review_records",
          due=lambda cal, at: cal.add_business_days(at, 1)),
    # The medical record number is entered: no more reminding.
    Event("mrn_registered", closes=("register_mrn",)),
)
EVENTS_BY_NAME = {event.name: event for event in EVENTS}
#: The clocks that run while a case waits on the patient (they are the chasing); every other
#: open task's clock pauses until the patient answers.
CHASE_KINDS = frozenset({"records_chase", "call_patient"})
#: After this many chases of missing records, a coordinator calls the patient instead.
MAX_RECORDS_CHASES = 3
RULES_BY_STAGE = {rule.stage: rule for rule in RULES}
RULES_BY_KIND = {rule.kind: rule for rule in RULES}


def calendar() -> BusinessCalendar:
    """The center's business calendar, from the app's configuration (made once per setting)."""
    config = current_app.config
    key = (config["TIMEZONE"], repr(config.get("BUSINESS_HOURS")), repr(config.get("HOLIDAYS")))
    calendars = current_app.extensions.setdefault("itinera.calendars", {})
    if key not in calendars:
        calendars[key] = BusinessCalendar.from_config(config)
    return calendars[key]


def on_stage_change(inquiry: Inquiry, from_stage: str | None, to_stage: str, *,
                    actor: User | None, at: datetime) -> list[Task]:
    """Close the tasks tied to the stage left and open those of the stage entered, and of the
    requirements that begin there; closing a case cancels the requirements' tasks."""
    if from_stage in RULES_BY_STAGE:
        kinds = [RULES_BY_STAGE[from_stage].kind] + (["call_patient"] if from_stage == "records" else [])
        for task in _open(inquiry, kinds):
            task.state = CANCELLED if to_stage == "closed" else DONE
            task.completed_at, task.completed_by_id = at, actor.id if actor else None
    created = []
    rule = RULES_BY_STAGE.get(to_stage)
    if rule is not None:
        task = Task(inquiry=inquiry, kind=rule.kind, state=OPEN, created_at=at,
                    due_at=rule.due(calendar(), at), assignee=inquiry.coordinator)
        db.session.add(task)
        created.append(task)
    if to_stage == "closed":
        for task in _open(inquiry, REQUIREMENT_KINDS):
            task.state, task.completed_at, task.completed_by_id = CANCELLED, at, actor.id if actor else None
    for requirement in REQUIREMENTS:
        if requirement.stage == to_stage and requirement.missing(inquiry) \
                and not _open(inquiry, [requirement.kind]):
            task = Task(inquiry=inquiry, kind=requirement.kind, state=OPEN, created_at=at,
                        due_at=requirement.due(calendar(), at), assignee=inquiry.coordinator)
            db.session.add(task)
            created.append(task)
    return created


def on_event(inquiry: Inquiry, name: str, *, actor: User | None, at: datetime | None = None) -> Task | None:
    """Apply the ``EVENTS`` rule called ``name``: close its tasks, open its task."""
    event, at = EVENTS_BY_NAME[name], at or utcnow()
    for task in _open(inquiry, event.closes):
        task.state, task.completed_at = DONE, at
        task.completed_by_id = actor.id if actor else None
    opened = None
    if event.opens and not _open(inquiry, [event.opens]):
        opened = Task(inquiry=inquiry, kind=event.opens, state=OPEN, created_at=at,
                      due_at=event.due(calendar(), at), assignee=inquiry.coordinator)
        db.session.add(opened)
    return opened


def wait_on_patient(inquiry: Inquiry, *, at: datetime | None = None) -> None:
    """The case now waits on the patient: pause the clocks of its open tasks, except those
    that chase the patient. Flushes."""
    at = at or utcnow()
    if inquiry.waiting_since is None:
        inquiry.waiting_since = at
    for task in _open(inquiry):
        if task.paused_at is None and task.kind not in CHASE_KINDS:
            task.paused_at = at
    db.session.flush()


def patient_answered(inquiry: Inquiry, *, at: datetime | None = None) -> None:
    """The patient answered: paused clocks resume with the business time they had left."""
    at = at or utcnow()
    cal = calendar()
    if inquiry.waiting_since is not None:
        inquiry.waiting_since = None
    for task in _open(inquiry):
        if task.paused_at is None:
            continue
        left = cal.business_time_between(task.paused_at, task.due_at)
        if left:  # a task already late when the wait began stays late
            task.due_at = cal.add_business_time(at, left)
        task.paused_at = None


def ensure_records_chase(inquiry: Inquiry, *, at: datetime) -> Task | None:
    """Records asked for again while the case is in ``records`` and nothing chases them (all had
    arrived, or the chase ended in a call): chasing starts over. Flushes."""
    if inquiry.stage != "records" or _open(inquiry, ["records_chase", "call_patient"]):
        return None
    task = Task(inquiry=inquiry, kind="records_chase", state=OPEN, created_at=at,
                due_at=RULES_BY_KIND["records_chase"].due(calendar(), at), assignee=inquiry.coordinator)
    db.session.add(task)
    db.session.flush()
    return task


def complete_by_system(task: Task, *, at: datetime) -> None:
    """A job did the task (e.g. sent the reminder): done, and the next chase planned. Flushes."""
    task.state, task.completed_at = DONE, at
    db.session.flush()
    if task.kind == "records_chase" and task.inquiry.stage == "records":
        _next_records_chase(task.inquiry, at)


def task_label(task: Task) -> str:
    return str(TASK_LABELS.get(task.kind, task.kind))


def hand_over(inquiry: Inquiry, previous_id: int | None, new_id: int | None) -> None:
    """The inquiry changed hands: its open tasks that were the previous coordinator's (or
    nobody's) become the new one's."""
    for task in _open(inquiry):
        if task.assignee_id in (None, previous_id):
            task.assignee_id = new_id


def visible_tasks(user: User):
    """``select(Task)`` of the inquiries ``user`` may see."""
    return select(Task).join(Task.inquiry).where(inquiry_scope(user))


def get_task(user: User, task_id) -> Task:
    task = db.session.scalars(visible_tasks(user).where(Task.id == as_id(task_id))).first()
    if task is None:
        raise NotFound()
    return task


def complete_task(task: Task, *, actor: User) -> bool:
    """Mark the task done; completing a task that is no longer open changes nothing. Flushes."""
    if task.state != OPEN:
        return False
    now = utcnow()
    task.state, task.completed_at, task.completed_by_id = DONE, now, actor.id
    db.session.flush()
    audit.record("change", actor=actor, inquiry=task.inquiry, detail=f"task={task.kind} done")
    if task.kind == "records_chase" and task.inquiry.stage == "records":
        _next_records_chase(task.inquiry, now)
    return True


def _next_records_chase(inquiry: Inquiry, now: datetime) -> Task:
    """Records still missing: chase again in three business days; after three chases, a
    coordinator calls the patient the next business day. Flushes."""
    chased = db.session.scalar(select(func.count(Task.id)).where(
        Task.inquiry_id == inquiry.id, Task.kind == "records_chase", Task.state == DONE,
        Task.created_at >= inquiry.stage_entered_at))
    cal = calendar()
    if chased < MAX_RECORDS_CHASES:
        task = Task(inquiry=inquiry, kind="records_chase", due_at=cal.add_business_days(now, 3))
    else:
        task = Task(inquiry=inquiry, kind="call_patient", due_at=cal.add_business_days(now, 1))
    task.state, task.created_at, task.assignee = OPEN, now, inquiry.coordinator
    db.session.add(task)
    db.session.flush()
    return task


def _open(inquiry: Inquiry, kinds: Iterable[str] | None = None) -> list[Task]:
    """The case's open tasks (of ``kinds``), read from its task list: the tasks made for it in
    this transaction are there before they are written."""
    return [task for task in inquiry.tasks if task.state == OPEN and (kinds is None or task.kind in kinds)]


def open_tasks_of(inquiry: Inquiry) -> list[Task]:
    # sorted here, not in SQL: an ORDER BY due_at lures SQLite onto the (state, due_at) index,
    # a scan of every open task, instead of this inquiry's handful
    tasks = db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id, Task.state == OPEN)
                               .options(joinedload(Task.assignee))).all()
    return sorted(tasks, key=lambda task: (task.due_at, task.id))


def end_of_local_day(now: datetime) -> datetime:
    """Midnight at the end of ``now``'s day in the center's time zone."""
    zone = calendar().zone
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone)


def my_tasks(user: User, *, now: datetime | None = None, limit: int = 200) -> dict[str, list[Task]]:
    """The user's open tasks: overdue, due today (center's day), upcoming."""
    now = now or utcnow()
    tonight = end_of_local_day(now)
    tasks = db.session.scalars(
        visible_tasks(user).where(Task.assignee_id == user.id, Task.state == OPEN)
        .options(joinedload(Task.inquiry).joinedload(Inquiry.patient))
        .order_by(Task.due_at).limit(limit)).all()
    buckets: dict[str, list[Task]] = {"overdue": [], "today": [], "upcoming": []}
    for task in tasks:
        if task.paused_at is not None:
            key = "upcoming"  # waiting on the patient: not late, whatever the date says
        else:
            key = "overdue" if task.due_at < now else "today" if task.due_at < tonight else "upcoming"
        buckets[key].append(task)
    return buckets


def due_counts(user: User, *, now: datetime | None = None) -> dict[str, int]:
    """How many of the user's open tasks are overdue and due today (for the navigation)."""
    now = now or utcnow()
    tonight = end_of_local_day(now)
    overdue, today = db.session.execute(
        select(func.count(case((Task.due_at < now, 1))),
               func.count(case(((Task.due_at >= now) & (Task.due_at < tonight), 1))))
        .where(Task.assignee_id == user.id, Task.state == OPEN, Task.paused_at.is_(None))).one()
    return {"overdue": overdue, "today": today}


def workload(user: User, *, now: datetime | None = None) -> list[dict]:
    """Open and overdue tasks per coordinator, for managers."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Task.assignee_id, func.count(Task.id),
               func.count(case(((Task.due_at < now) & Task.paused_at.is_(None), 1))))
        .join(Task.inquiry).where(Task.state == OPEN, inquiry_scope(user))
        .group_by(Task.assignee_id)).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([r[0] for r in rows if r[0] is not None])))}
    out = [{"user": people.get(assignee), "open": total, "overdue": late}
           for assignee, total, late in rows]
    out.sort(key=lambda r: (-r["overdue"], -r["open"]))
    return out


def overdue_tasks(user: User, *, now: datetime | None = None, limit: int = 100) -> list[Task]:
    """The oldest overdue tasks of every coordinator the user may see (managers)."""
    return list(db.session.scalars(
        visible_tasks(user).where(Task.state == OPEN, Task.due_at < (now or utcnow()),
                                  Task.paused_at.is_(None))
        .options(joinedload(Task.inquiry).joinedload(Inquiry.patient), joinedload(Task.assignee))
        .order_by(Task.due_at).limit(limit)))
