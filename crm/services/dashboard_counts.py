"""The dashboard's counts, kept exact in the transaction of every write that changes them.

Inquiries, their stage history, their tasks and their patients' country and language change
through the ORM (a flush) or in bulk through the session (``session.execute(insert(...), rows)``:
the demo loader, the mail import's fast write, the sweeps). Either way the counts of each
inquiry concerned (``contributions``) are read from the database just before the write and just
after it, and the difference is added to the counters by upserts (``n = n + delta``): never a
read-modify-write in Python, so concurrent writers lose nothing. On PostgreSQL the rows read are
locked first (patients, then inquiries, each in id order), so that no other writer changes them
between the two reads; SQLite lets one writer in at a time (``extensions._begin_immediate``).

The listeners are installed once per process (``install``), by the dashboard's blueprint.
"""
from __future__ import annotations

import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, delete, event, inspect, or_, select
from sqlalchemy.orm import Session

from ..models import Inquiry, Patient, StageChange, Task
from ..models.dashboard import DAY, MONTH, WEEK, ZONE, DashboardCount, OpenTaskCount
from ..models.task import OPEN
from .pipeline import CLOSED, OPEN_STAGES

ONE_DAY = timedelta(days=1)
FIRST_RESPONSE = "first_response"
STAGE_RANK = {stage: rank for rank, stage in enumerate(OPEN_STAGES)}
#: What each family of counts reads (``contributions``): the case itself, its patient's country
#: and language, its stage history, its tasks. A write concerns the families whose inputs it
#: changes; a change of center or creation date (the keys of every count) concerns them all.
CASE, PATIENT, HISTORY, TASKS = "case", "patient", "history", "tasks"
ALL = frozenset({CASE, PATIENT, HISTORY, TASKS})
_INQUIRY_KEYS = ("center_id", "center", "created_at")
_INQUIRY_ATTRS = ("stage", "coordinator_id", "coordinator", "source")
_PATIENT_ATTRS = ("country", "preferred_language")
_CHANGE_ATTRS = ("to_stage", "created_at", "inquiry_id", "inquiry")
_TASK_ATTRS = ("state", "kind", "due_at", "paused_at", "completed_at", "assignee_id", "assignee",
               "inquiry_id", "inquiry")
#: Columns whose bulk UPDATE would change the counts: refused (``UntrackedWrite``).
_TRACKED_COLUMNS = {
    "inquiries": {"id", "stage", "center_id", "coordinator_id", "patient_id", "source", "created_at"},
    "patients": {"id", "country", "preferred_language"},
    "stage_changes": {"id", "to_stage", "created_at", "inquiry_id"},
    "tasks": {"id", "state", "kind", "due_at", "paused_at", "completed_at", "assignee_id", "inquiry_id"},
}
#: Counts read for all time only (the workload now): kept per month of creation, not per day.
MONTHS_ONLY = frozenset({"coordinator"})
_CHUNK = 5000
_STASH = "crm.dashboard_counts.before"
_PENDING = "crm.dashboard_counts.pending"
_COUNTED = "crm.dashboard_counts.counted"
_DELTAS = "crm.dashboard_counts.deltas"
_APPLIED = "crm.dashboard_counts.applied"


class UntrackedWrite(RuntimeError):
    """A bulk write the counts cannot follow (an UPDATE or DELETE of counted columns, rows
    inserted without their ids): write through the ORM, or call ``rebuild`` afterwards."""


@dataclass
class Contributions:
    """What some inquiries add to the counts: ``counts`` by (local day of creation, center,
    dim, value), ``tasks`` (open tasks) by (center, assignee, due hour, paused)."""

    counts: Counter = field(default_factory=Counter)
    tasks: Counter = field(default_factory=Counter)

    def minus(self, other: "Contributions") -> "Contributions":
        counts, tasks = Counter(self.counts), Counter(self.tasks)
        counts.subtract(other.counts)
        tasks.subtract(other.tasks)
        return Contributions(Counter({k: n for k, n in counts.items() if n}),
                             Counter({k: n for k, n in tasks.items() if n}))

    def __bool__(self) -> bool:
        return bool(self.counts or self.tasks)


def zone() -> ZoneInfo:
    """The center's time zone: the days, weeks and months of the counts are its own."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def response_outcome(state: str, due_at: datetime, completed_at: datetime | None) -> str | None:
    """The first response of a case, from its first ``first_response`` task: ``on_time`` (done
    by the time it was due: the next business morning), ``late`` (done later, or the case closed
    unanswered after it was due), ``open:<hour>`` (not answered yet: late once that hour, UTC,
    has passed), None (closed unanswered before it was due: nothing was late)."""
    if state == OPEN:
        return "open:" + hour_of(due_at).strftime("%Y-%m-%dT%H")
    if completed_at is None:
        return None
    if state == "done":
        return "on_time" if completed_at <= due_at else "late"
    return "late" if completed_at > due_at else None


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


_IDS = bindparam("ids", expanding=True)
#: The three reads of ``contributions``, built once (their compiled forms are cached).
_CASES = (select(Inquiry.id, Inquiry.created_at, Inquiry.center_id, Inquiry.stage, Inquiry.source,
                 Inquiry.coordinator_id, Patient.country, Patient.preferred_language)
          .join(Patient, Patient.id == Inquiry.patient_id).where(Inquiry.id.in_(_IDS)))
_HISTORY = (select(StageChange.inquiry_id, StageChange.to_stage, StageChange.created_at)
            .where(StageChange.inquiry_id.in_(_IDS)).order_by(StageChange.inquiry_id, StageChange.id))
_TASK_ROWS = (select(Task.inquiry_id, Task.kind, Task.state, Task.assignee_id, Task.due_at, Task.paused_at,
                     Task.completed_at)
              .where(Task.inquiry_id.in_(_IDS), or_(Task.state == OPEN, Task.kind == FIRST_RESPONSE))
              .order_by(Task.id))


def contributions(connection, ids: Iterable[int], families: frozenset = ALL, *,
                  local: ZoneInfo | None = None) -> Contributions:
    """The counts of the inquiries ``ids`` as the database has them now (in ``connection``'s
    transaction): three queries per 5,000 inquiries at most."""
    ids = sorted(set(ids))
    out = Contributions()
    local = local or zone()
    for start in range(0, len(ids), _CHUNK):
        _add_contributions(connection, ids[start:start + _CHUNK], families, local, out)
    return out


def _add_contributions(connection, ids: list[int], families, local: ZoneInfo, out: Contributions) -> None:
    counts = out.counts
    keys: dict[int, tuple[date, int]] = {}
    stages: dict[int, str] = {}
    for row in connection.execute(_CASES, {"ids": ids}):
        key = (row.created_at.astimezone(local).date(), row.center_id or 0)
        keys[row.id], stages[row.id] = key, row.stage
        if CASE in families:
            counts[(*key, "total", "")] += 1
            counts[(*key, "stage", row.stage)] += 1
            counts[(*key, "source", row.source)] += 1
            if row.stage != CLOSED:
                counts[(*key, "coordinator", str(row.coordinator_id or 0))] += 1
        if PATIENT in families:
            counts[(*key, "country", row.country or "")] += 1
            counts[(*key, "language", row.preferred_language or "")] += 1
    if not keys:
        return
    if HISTORY in families:
        history: dict[int, list] = defaultdict(list)
        for inquiry_id, to_stage, at in connection.execute(_HISTORY, {"ids": list(keys)}):
            history[inquiry_id].append((to_stage, at))
        for inquiry_id, key in keys.items():
            changes = history.get(inquiry_id, [])
            for (stage, entered), (_next, left) in zip(changes, changes[1:]):
                if stage in STAGE_RANK:  # a stay in ``closed`` before a reopening is no stay
                    counts[(*key, f"stay:{stage}", str(max(0, (left - entered) // ONE_DAY)))] += 1
            reached = [STAGE_RANK[s] for s, _at in changes if s in STAGE_RANK]
            if stages[inquiry_id] in STAGE_RANK:
                reached.append(STAGE_RANK[stages[inquiry_id]])
            if reached:
                counts[(*key, "furthest", OPEN_STAGES[max(reached)])] += 1
    if TASKS in families:
        answered: set[int] = set()
        for row in connection.execute(_TASK_ROWS, {"ids": list(keys)}):
            key = keys[row.inquiry_id]
            if row.kind == FIRST_RESPONSE and row.inquiry_id not in answered:
                answered.add(row.inquiry_id)  # the first one only: a case back in ``new`` is no new case
                outcome = response_outcome(row.state, row.due_at, row.completed_at)
                if outcome:
                    counts[(*key, "response", outcome)] += 1
            if row.state == OPEN:
                out.tasks[(key[1], row.assignee_id or 0, hour_of(row.due_at), row.paused_at is not None)] += 1


def periods_of(day: date) -> tuple[tuple[str, date], ...]:
    """The day, week (from Monday) and month a local day counts in."""
    return ((DAY, day), (WEEK, day - timedelta(days=day.weekday())), (MONTH, day.replace(day=1)))


def apply(connection, delta: Contributions) -> None:
    """Add ``delta`` to the counters: upserts in key order (concurrent writers lock the rows
    they share in the same order)."""
    rows: Counter = Counter()
    for (day, center, dim, value), n in delta.counts.items():
        if dim in MONTHS_ONLY:
            rows[(MONTH, day.replace(day=1), center, dim, value)] += n
            continue
        for period, start in periods_of(day):
            rows[(period, start, center, dim, value)] += n
    _upsert(connection, DashboardCount, ("period", "start", "center_id", "dim", "value"),
            [(key, n) for key, n in sorted(rows.items()) if n])
    _upsert(connection, OpenTaskCount, ("center_id", "assignee_id", "due_hour", "is_paused"),
            sorted(delta.tasks.items()))


def _upsert(connection, model, keys: tuple[str, ...], items: list) -> None:
    """``n = n + delta`` for each (key, delta), in one statement run for all of them through the
    driver (a bulk load adds a few hundred thousand; SQLAlchemy's own parameter handling took
    longer than the database)."""
    if not items:
        return
    table = model.__table__
    if connection.dialect.name == "postgresql":
        marks, rows = "%s", [(*key, n) for key, n in items]
    else:
        marks, rows = "?", [tuple(_sqlite_value(v) for v in key) + (n,) for key, n in items]
    columns = ", ".join(keys)
    connection.exec_driver_sql(  # nosemgrep: itinera-sql-string-formatting - names from the model, values bound
        f"INSERT INTO {table.name} ({columns}, n) VALUES ({', '.join([marks] * (len(keys) + 1))}) "
        f"ON CONFLICT ({columns}) DO UPDATE SET n = {table.name}.n + excluded.n", rows)  # nosec B608 - as above


def _sqlite_value(value):
    """A key's value as SQLAlchemy stores it in SQLite (dates and UTC times as ISO text)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def rebuild(session: Session, *, batch: int = 20_000) -> int:
    """Count everything again from the cases (after a bulk load in plain SQL, or a change of the
    center's time zone); returns how many inquiries were counted. Flushes, never commits."""
    session.flush()
    for key in (_PENDING, _DELTAS, _COUNTED, _APPLIED):
        session.info.pop(key, None)
    connection = session.connection()
    local = zone()
    connection.execute(delete(DashboardCount))
    connection.execute(delete(OpenTaskCount))
    connection.execute(DashboardCount.__table__.insert().values(
        period=ZONE, start=date(1970, 1, 1), center_id=0, dim="zone", value=local.key, n=1))
    last, counted = 0, 0
    while True:
        ids = list(connection.execute(select(Inquiry.id).where(Inquiry.id > last).order_by(Inquiry.id)
                                      .limit(batch)).scalars())
        if not ids:
            return counted
        apply(connection, contributions(connection, ids, local=local))
        last, counted = ids[-1], counted + len(ids)


# --- keeping the counts in step ------------------------------------------------------------------

_ready: "weakref.WeakSet" = weakref.WeakSet()


def _counting(connection) -> bool:
    """Whether this database has the counts' tables (a database not migrated that far yet gets
    its counts from the migration that makes them)."""
    engine = connection.engine
    if engine in _ready:
        return True
    if inspect(connection).has_table(OpenTaskCount.__tablename__):
        _ready.add(engine)
        return True
    return False


def _changed(obj, attrs) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attrs)


def _inquiry_of(obj):
    """The inquiry id of a stage change or task, or the (new) inquiry object itself."""
    if obj.inquiry_id is not None:
        return obj.inquiry_id
    inquiry = inspect(obj).attrs.inquiry.loaded_value
    if isinstance(inquiry, Inquiry):
        return inquiry.id if inquiry.id is not None and inspect(inquiry).has_identity else inquiry
    return None


@dataclass
class _Plan:
    """What one write concerns: each inquiry (by id, or the new object whose id the write gives)
    with the families of counts it changes; the patients to lock; the patients whose country or
    language changes (their inquiries' ``PATIENT`` counts move)."""

    wants: dict = field(default_factory=dict)
    patients_changed: set = field(default_factory=set)
    patients_locked: set = field(default_factory=set)

    def add(self, ref, families) -> None:
        if ref is not None:
            self.wants.setdefault(ref, set()).update(families)

    def ids(self) -> dict[int, frozenset]:
        """Inquiry id -> its families (new inquiries once written)."""
        out: dict[int, set] = {}
        for ref, families in self.wants.items():
            key = ref if isinstance(ref, int) else ref.id
            if key is not None:
                out.setdefault(key, set()).update(families)
        return {key: frozenset(families) for key, families in out.items()}

    def __bool__(self) -> bool:
        return bool(self.wants or self.patients_changed)


def _plan_flush(session: Session) -> _Plan:
    plan = _Plan()
    for obj in session.new:
        if isinstance(obj, Inquiry):
            plan.add(obj, ALL)
            patient = inspect(obj).attrs.patient.loaded_value
            if isinstance(patient, Patient) and inspect(patient).has_identity:
                plan.patients_locked.add(patient.id)
            elif obj.patient_id is not None:
                plan.patients_locked.add(obj.patient_id)
        elif isinstance(obj, StageChange):
            plan.add(_inquiry_of(obj), {HISTORY})
        elif isinstance(obj, Task):
            plan.add(_inquiry_of(obj), {TASKS})
    for obj in session.dirty:
        if isinstance(obj, Inquiry):
            patient = inspect(obj).attrs.patient.history
            if _changed(obj, _INQUIRY_KEYS):
                plan.add(obj.id, ALL)
                plan.patients_locked.add(obj.patient_id)
            elif patient.has_changes() or _changed(obj, ("patient_id",)):
                plan.add(obj.id, {PATIENT})
            if _changed(obj, _INQUIRY_ATTRS):
                plan.add(obj.id, {CASE})
            if patient.has_changes() or _changed(obj, ("patient_id",)):
                plan.patients_locked.add(obj.patient_id)
                plan.patients_locked.update(p.id for p in patient.added if p is not None and p.id is not None)
        elif isinstance(obj, Patient) and _changed(obj, _PATIENT_ATTRS):
            plan.patients_changed.add(obj.id)
        elif isinstance(obj, StageChange) and _changed(obj, _CHANGE_ATTRS):
            _add_moved(plan, obj, {HISTORY})
        elif isinstance(obj, Task) and _changed(obj, _TASK_ATTRS):
            _add_moved(plan, obj, {TASKS})
    for obj in session.deleted:
        if isinstance(obj, Inquiry):
            plan.add(obj.id, ALL)
        elif isinstance(obj, StageChange):
            _add_moved(plan, obj, {HISTORY})
        elif isinstance(obj, Task):
            _add_moved(plan, obj, {TASKS})
    plan.patients_locked.discard(None)
    return plan


def _add_moved(plan: _Plan, obj, families) -> None:
    """A changed row's inquiry, and the one it belonged to before if it moved."""
    plan.add(_inquiry_of(obj), families)
    for old in inspect(obj).attrs.inquiry_id.history.deleted:
        plan.add(old, families)


def _lock_and_expand(connection, plan: _Plan) -> None:
    """The locking that keeps concurrent counts exact on PostgreSQL (SQLite has one writer at a
    time): the patients concerned first, then the inquiries written to, each in id order. A
    patient's row stands for the country and language of all their cases: whoever counts them
    (a new case, a case moving center, a merge) holds it, and whoever changes them holds it
    alone, then reads which cases are theirs. The inquiries of patients whose country or
    language changes join the plan for those counts only (not locked: nothing else of them is
    counted by this write)."""
    is_pg = connection.dialect.name == "postgresql"
    patients = plan.patients_changed | plan.patients_locked
    if is_pg and patients:
        connection.execute(select(Patient.id).where(Patient.id.in_(sorted(patients)))
                           .order_by(Patient.id).with_for_update(key_share=True))
    locked = sorted(ref for ref in plan.wants if isinstance(ref, int))
    if plan.patients_changed:
        for inquiry_id in connection.execute(select(Inquiry.id).where(
                Inquiry.patient_id.in_(sorted(plan.patients_changed)))).scalars():
            plan.add(inquiry_id, {PATIENT})
    if is_pg and locked:
        for start in range(0, len(locked), _CHUNK):
            connection.execute(select(Inquiry.id).where(Inquiry.id.in_(locked[start:start + _CHUNK]))
                               .order_by(Inquiry.id).with_for_update(key_share=True))


def _grouped(connection, wants: dict[int, frozenset]) -> Contributions:
    """``contributions`` of each inquiry for its own families."""
    groups: dict[frozenset, list] = defaultdict(list)
    for inquiry_id, families in wants.items():
        groups[families].append(inquiry_id)
    out = Contributions()
    for families, ids in groups.items():
        part = contributions(connection, ids, families)
        out.counts.update(part.counts)
        out.tasks.update(part.tasks)
    return out


def _before_flush(session: Session, _context, _instances) -> None:
    session.info.pop(_STASH, None)
    plan = _plan_flush(session)
    if not plan:
        return
    connection = session.connection()
    if not _counting(connection):
        return
    count_pending(session)  # the inquiries inserted in bulk are counted before they change
    _lock_and_expand(connection, plan)
    wants = plan.ids()
    session.info[_STASH] = (plan, wants, _grouped(connection, wants))


def _after_flush(session: Session, _context) -> None:
    stash = session.info.pop(_STASH, None)
    if stash is None:
        return
    plan, before_wants, before = stash
    wants = plan.ids()  # the new inquiries have their ids now
    for inquiry_id, families in before_wants.items():
        wants[inquiry_id] = wants.get(inquiry_id, frozenset()) | families
    delta = _grouped(session.connection(), wants).minus(before)
    if delta:
        _record(session, delta)


def _on_execute(state):
    """Bulk writes through the session: counted like a flush, or refused if they cannot be."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in _TRACKED_COLUMNS:
        return None
    if state.is_update:
        compiled = state.statement.compile()
        if not set(compiled.params) & _TRACKED_COLUMNS[name]:
            return None  # e.g. tasks marked escalated: nothing counted changes
        raise UntrackedWrite(f"a bulk UPDATE of {name} would change the dashboard's counts: "
                             "change the rows through the ORM")
    if state.is_delete:
        if name == "patients":
            return None  # a patient with inquiries cannot be deleted (foreign key)
        raise UntrackedWrite(f"a bulk DELETE from {name} would change the dashboard's counts: "  # nosec B608 - a message
                             "delete through the ORM")
    if name == "patients":
        return None
    rows = state.parameters
    if rows is None:
        rows = [state.statement.compile().params]
    elif isinstance(rows, dict):
        rows = [rows]
    connection = state.session.connection()
    if not _counting(connection):
        return None
    session = state.session
    plan = _Plan()
    if name == "inquiries":
        if any(row.get("id") is None for row in rows):
            raise UntrackedWrite("inquiries inserted in bulk need their ids for the dashboard's counts")
        plan.patients_locked.update(row["patient_id"] for row in rows if row.get("patient_id") is not None)
        _lock_and_expand(connection, plan)
        result = state.invoke_statement()
        # counted with their stage changes and tasks once written: before the next write that
        # concerns them, or when the transaction (or savepoint) commits
        session.info.setdefault(_PENDING, []).append((_transaction(session), {row["id"] for row in rows}))
        return result
    if any(row.get("inquiry_id") is None for row in rows):
        raise UntrackedWrite(f"{name} inserted in bulk need their inquiry ids for the dashboard's counts")
    ids = {row["inquiry_id"] for row in rows}
    if ids <= _pending_ids(session):
        return None  # rows of inquiries not counted yet: they will be, with these
    count_pending(session)
    families = frozenset({HISTORY if name == "stage_changes" else TASKS})
    for inquiry_id in ids:
        plan.add(inquiry_id, families)
    _lock_and_expand(connection, plan)
    before = contributions(connection, ids, families)
    result = state.invoke_statement()
    delta = contributions(connection, ids, families).minus(before)
    if delta:
        _record(session, delta)
    return result


# --- inquiries inserted in bulk, counted once they are whole ------------------------------------

def _transaction(session: Session):
    return session.get_nested_transaction() or session.get_transaction()


def _pending_ids(session: Session) -> set[int]:
    return set().union(*(ids for _tx, ids in session.info.get(_PENDING, ())))


def count_pending(session: Session) -> None:
    """Count the inquiries this session inserted in bulk and has not counted yet."""
    entries = session.info.get(_PENDING)
    if not entries:
        return
    session.info[_PENDING] = []
    ids = set().union(*(ids for _tx, ids in entries))
    _record(session, contributions(session.connection(), ids))
    now = _transaction(session)
    session.info.setdefault(_COUNTED, []).extend((now, tx, ids) for tx, ids in entries)


def _record(session: Session, delta: Contributions) -> None:
    """Keep ``delta`` to be added when the transaction commits."""
    session.info.setdefault(_DELTAS, []).append((_transaction(session), delta))


def write_counts(session: Session) -> None:
    """Add what this session's transaction changed to the counters: once, at its commit, every
    key in order, so that concurrent transactions lock the rows they share in the same order
    (and, on PostgreSQL, never deadlock on them); or before the counts are read within it."""
    count_pending(session)
    entries = session.info.get(_DELTAS)
    if not entries:
        return
    session.info[_DELTAS] = []
    total = Contributions()
    for _tx, delta in entries:
        total.counts.update(delta.counts)
        total.tasks.update(delta.tasks)
    apply(session.connection(), total.minus(Contributions()))
    now = _transaction(session)
    session.info.setdefault(_APPLIED, []).extend((now, tx, delta) for tx, delta in entries)


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _before_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the transaction itself, not a savepoint
        session.flush()  # what the commit would flush is counted too
        write_counts(session)


def _after_soft_rollback(session: Session, previous) -> None:
    """What the rolled-back transaction (or savepoint) wrote is forgotten; what was counted or
    written in it for writes that stand is owed again."""
    info = session.info
    pending = [(tx, ids) for tx, ids in info.get(_PENDING, ()) if not _within(tx, previous)]
    deltas = [(tx, delta) for tx, delta in info.get(_DELTAS, ()) if not _within(tx, previous)]
    counted, applied = [], []
    for at, tx, ids in info.get(_COUNTED, ()):
        if not _within(at, previous):
            counted.append((at, tx, ids))
        elif not _within(tx, previous):
            pending.append((tx, ids))
    for at, tx, delta in info.get(_APPLIED, ()):
        if not _within(at, previous):
            applied.append((at, tx, delta))
        elif not _within(tx, previous):
            deltas.append((tx, delta))
    info[_PENDING], info[_DELTAS], info[_COUNTED], info[_APPLIED] = pending, deltas, counted, applied
    info.pop(_STASH, None)


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # a savepoint released: its parent goes on
        for key in (_PENDING, _DELTAS, _COUNTED, _APPLIED):
            session.info.pop(key, None)


def install() -> None:
    """Listen to every session's flushes and bulk writes (once per process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        event.listen(Session, "after_commit", _after_commit)
