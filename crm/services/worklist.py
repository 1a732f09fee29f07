"""What coordinators look at: the board, the filtered inquiry list, search, the timeline."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload

from .. import labels
from ..extensions import db
from ..i18n import LANGUAGE_LOCALES
from ..models import Center, Inquiry, Note, Patient, RoutingDecision, StageChange, Task, User
from ..models.base import utcnow
from ..models.inquiry import REFERENCE_PREFIX, ClinicalReview
from ..models.inquiry import SOURCES
from ..models.patient import fold
from ..models.task import CANCELLED, DONE, OPEN
from .formatting import staff_zone
from .pipeline import CLOSED, OPEN_STAGES, STAGES
from .visibility import inquiry_scope

STALLED_AFTER = timedelta(days=7)
SORTS = {
    "updated": (Inquiry.updated_at.desc(), Inquiry.id.desc()),
    "created": (Inquiry.created_at.desc(), Inquiry.id.desc()),
    "waiting": (Inquiry.stage_entered_at.asc(), Inquiry.id.asc()),
    "name": (Patient.family_name.asc(), Patient.given_name.asc(), Inquiry.id.asc()),
}
_REFERENCE = re.compile(rf"^\s*(?:{REFERENCE_PREFIX})?0*(\d{{1,9}})\s*$", re.IGNORECASE)
_PHONE = re.compile(r"^[\d\s()+.-]{6,}$")


@dataclass
class Filters:
    """The list and board filters, already validated (unknown values are dropped)."""

    stage: str | None = None
    center: str | None = None
    coordinator_id: int | None = None
    language: str | None = None
    country: str | None = None
    q: str | None = None
    updated_since: datetime | None = None
    stalled_only: bool = False
    unrouted_only: bool = False
    sort: str = "updated"
    extra: dict = field(default_factory=dict)
    #: Created from/to these days (the center's time zone, both included).
    created_from: date | None = None
    created_to: date | None = None
    source: str | None = None
    open_only: bool = False
    unassigned_only: bool = False
    #: Not routed, whatever the stage (``unrouted_only`` is the open ones: the triage queue).
    unrouted_any: bool = False
    #: Cases with an overdue task: ``all``, ``none`` (nobody's) or an assignee's id.
    overdue: str | None = None
    #: Cases that got at least as far as this stage; that left this stage at least once.
    reached: str | None = None
    left_stage: str | None = None
    #: ``on_time`` or ``late``: the case's first response (``dashboard_counts.response_outcome``).
    first_response: str | None = None


def filters_from_args(args, user: User) -> Filters:
    """Read the filters from a query string; unknown values are ignored, never an error.
    ``coordinator=me`` means ``user``."""
    since = None
    if args.get("updated_since"):
        try:
            since = datetime.fromisoformat(args["updated_since"])
        except ValueError:
            since = None
    coordinator = args.get("coordinator", "")
    overdue = args.get("overdue") or ""
    coordinator_id = user.id if coordinator == "me" else (
        int(coordinator) if coordinator.isdigit() and len(coordinator) < 10 else None)
    return Filters(
        stage=args.get("stage") if args.get("stage") in STAGES else None,
        center=(args.get("center") or "")[:40] or None,
        coordinator_id=coordinator_id,
        language=args.get("language") if args.get("language") in LANGUAGE_LOCALES else None,
        country=(args.get("country") or "")[:2].upper() or None,
        q=(args.get("q") or "")[:100] or None,
        updated_since=since if since and since.tzinfo else None,
        stalled_only=args.get("late") == "1",
        unrouted_only=args.get("unrouted") == "1",
        sort=args.get("sort") if args.get("sort") in SORTS else "updated",
        created_from=_day(args.get("created_from")), created_to=_day(args.get("created_to")),
        source=args.get("source") if args.get("source") in SOURCES else None,
        open_only=args.get("open") == "1",
        unassigned_only=coordinator == "none", unrouted_any=args.get("unrouted") == "all",
        overdue=overdue if overdue in ("all", "none") or (overdue.isdigit() and len(overdue) < 10) else None,
        reached=args.get("reached") if args.get("reached") in OPEN_STAGES else None,
        left_stage=args.get("left_stage") if args.get("left_stage") in OPEN_STAGES else None,
        first_response=args.get("first_response") if args.get("first_response") in ("on_time", "late") else None)


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def needs_patient_join(filters: Filters) -> bool:
    return filters.sort == "name"


def filtered(user: User | None, filters: Filters, *, everything: bool = False) -> Select:
    """``select(Inquiry)`` in the user's scope with ``filters`` applied; joined to the patient
    only when a filter or the sort needs it, so that counts and pages stay on one table.

    :param everything: no user scope: only for the operator's command line.
    """
    stmt = select(Inquiry)
    if needs_patient_join(filters):
        stmt = stmt.join(Inquiry.patient)
    if not everything:
        stmt = stmt.where(inquiry_scope(user))
    if filters.stage in STAGES:
        stmt = stmt.where(Inquiry.stage == filters.stage)
    if filters.center:
        stmt = stmt.where(Inquiry.center_id == select(Center.id).where(
            Center.key == filters.center).scalar_subquery())
    if filters.coordinator_id:
        stmt = stmt.where(Inquiry.coordinator_id == filters.coordinator_id)
    patient_filters = []
    if filters.language:
        patient_filters.append(Patient.preferred_language == filters.language)
    if filters.country:
        patient_filters.append(Patient.country == filters.country.upper())
    if patient_filters:
        stmt = stmt.where(Inquiry.patient_id.in_(select(Patient.id).where(*patient_filters)))
    if filters.updated_since:
        stmt = stmt.where(Inquiry.updated_at >= filters.updated_since)
    if filters.stalled_only:
        stmt = stmt.where(Inquiry.stage != CLOSED,
                          Inquiry.stage_entered_at < utcnow() - STALLED_AFTER)
    if filters.unrouted_only:
        stmt = stmt.where(Inquiry.center_id.is_(None), Inquiry.stage != CLOSED)
    stmt = _dashboard_filters(stmt, filters)
    if filters.q and filters.q.strip():
        stmt = stmt.where(search_clause(filters.q))
    return stmt


def _dashboard_filters(stmt: Select, filters: Filters) -> Select:
    """The filters the dashboard's figures link to, each exactly the cases a figure counts."""
    if filters.created_from or filters.created_to:
        zone = staff_zone()
        if filters.created_from:
            stmt = stmt.where(Inquiry.created_at >= datetime.combine(filters.created_from, time(0), zone))
        if filters.created_to:
            stmt = stmt.where(Inquiry.created_at < datetime.combine(
                filters.created_to + timedelta(days=1), time(0), zone))
    if filters.source:
        stmt = stmt.where(Inquiry.source == filters.source)
    if filters.open_only:
        stmt = stmt.where(Inquiry.stage != CLOSED)
    if filters.unrouted_any:
        stmt = stmt.where(Inquiry.center_id.is_(None))
    if filters.unassigned_only:
        stmt = stmt.where(Inquiry.coordinator_id.is_(None))
    now = utcnow()
    if filters.overdue:
        clause = [Task.inquiry_id == Inquiry.id, Task.state == OPEN, Task.paused_at.is_(None), Task.due_at < now]
        if filters.overdue == "none":
            clause.append(Task.assignee_id.is_(None))
        elif filters.overdue != "all":
            clause.append(Task.assignee_id == int(filters.overdue))
        stmt = stmt.where(exists().where(*clause))
    if filters.reached:
        later = OPEN_STAGES[OPEN_STAGES.index(filters.reached):]
        stmt = stmt.where(or_(Inquiry.stage.in_(later), exists().where(
            StageChange.inquiry_id == Inquiry.id, StageChange.to_stage.in_(later))))
    if filters.left_stage:
        stmt = stmt.where(exists().where(StageChange.inquiry_id == Inquiry.id,
                                         StageChange.from_stage == filters.left_stage))
    if filters.first_response:
        first, earlier = aliased(Task), aliased(Task)
        done_late = first.completed_at > first.due_at
        outcome = and_(first.state == DONE, ~done_late) if filters.first_response == "on_time" else or_(
            and_(first.state.in_((DONE, CANCELLED)), done_late), and_(first.state == OPEN, first.due_at < now))
        stmt = stmt.where(exists().where(
            first.inquiry_id == Inquiry.id, first.kind == "first_response", outcome,
            ~exists().where(earlier.inquiry_id == first.inquiry_id, earlier.kind == "first_response",
                            earlier.id < first.id)))
    return stmt


def triage_count(user: User) -> int:
    """Open inquiries that no center has yet, among those ``user`` may see."""
    return db.session.scalar(select(func.count(Inquiry.id)).where(
        inquiry_scope(user), Inquiry.center_id.is_(None), Inquiry.stage != CLOSED))


def search_clause(q: str):
    """Name in any script, email, phone, reference or MRN. A reference is looked up by id
    alone; everything else is matched on the patients' table first."""
    q = q.strip()[:100]
    ref = _REFERENCE.match(q)
    if ref and q.upper().startswith(REFERENCE_PREFIX):
        return Inquiry.id == int(ref.group(1))
    patient_match = [Patient.search_text.contains(fold(q), autoescape=True), Patient.mrn == q]
    if _PHONE.match(q):
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 6:
            patient_match.append(Patient.phone.contains(digits, autoescape=True))
    clauses = [Inquiry.patient_id.in_(select(Patient.id).where(or_(*patient_match)))]
    if ref:
        clauses.append(Inquiry.id == int(ref.group(1)))
    return or_(*clauses)


def _with_related(stmt: Select) -> Select:
    return stmt.options(joinedload(Inquiry.patient), joinedload(Inquiry.center),
                        joinedload(Inquiry.coordinator))


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_inquiries(user: User, filters: Filters, *, page: int = 1, per_page: int = 50) -> Page:
    """One page of the filtered list, newest activity first unless sorted otherwise. The page's
    ids are found on the index alone; only those rows are then loaded with their patients."""
    base = filtered(user, filters)
    total = db.session.scalar(base.with_only_columns(func.count(Inquiry.id)).order_by(None))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = list(db.session.scalars(base.with_only_columns(Inquiry.id)
                                  .order_by(*SORTS.get(filters.sort, SORTS["updated"]))
                                  .limit(per_page).offset((page - 1) * per_page)))
    rows = {i.id: i for i in db.session.scalars(_with_related(select(Inquiry)
                                                              .where(Inquiry.id.in_(ids)))).unique()}
    return Page(items=[rows[i] for i in ids if i in rows], page=page, per_page=per_page, total=total)


def board(user: User, filters: Filters, *, per_stage: int = 12) -> list[dict]:
    """A column per stage: its count and the cases waiting longest (closed: the latest)."""
    base = filtered(user, Filters(**{**filters.__dict__, "stage": None}))
    counts = dict(db.session.execute(
        base.with_only_columns(Inquiry.stage, func.count(Inquiry.id)).group_by(Inquiry.stage)
        .order_by(None)).all())
    # The cards of every column: one UNION ALL of per-stage index scans, then one load.
    parts = []
    for stage in STAGES:
        if counts.get(stage):
            order = (Inquiry.stage_entered_at.desc(),) if stage == CLOSED else SORTS["waiting"]
            part = base.where(Inquiry.stage == stage).with_only_columns(Inquiry.id).order_by(*order)
            parts.append(select(part.limit(per_stage).subquery().c.id))
    ids = list(db.session.scalars(union_all(*parts))) if parts else []
    cards: dict[str, list] = {stage: [] for stage in STAGES}
    if ids:
        rows = {i.id: i for i in db.session.scalars(
            _with_related(select(Inquiry).where(Inquiry.id.in_(ids)))).unique()}
        for inquiry_id in ids:
            if inquiry_id in rows:
                cards[rows[inquiry_id].stage].append(rows[inquiry_id])
    columns = [{"stage": stage, "count": counts.get(stage, 0), "cards": cards[stage]}
               for stage in STAGES]
    return columns


def is_stalled(inquiry: Inquiry, now: datetime | None = None) -> bool:
    return inquiry.stage != CLOSED and (now or utcnow()) - inquiry.stage_entered_at > STALLED_AFTER


def timeline(inquiry: Inquiry, *, reviews: list[ClinicalReview] | None = None,
             care: dict | None = None) -> list[dict]:
    """Everything that happened on the case, newest first.

    :param reviews: the case's review rounds, when the caller has loaded them.
    :param care: ``services.care.load``'s data, when the caller has loaded it."""
    entries = []
    for change in db.session.scalars(select(StageChange).where(StageChange.inquiry_id == inquiry.id)
                                     .options(joinedload(StageChange.actor))):
        entries.append({"kind": "stage", "at": change.created_at, "actor": change.actor,
                        "from": change.from_stage, "to": change.to_stage, "outcome": change.outcome,
                        "text": change.note, "id": f"s{change.id}"})
    for note in db.session.scalars(select(Note).where(Note.inquiry_id == inquiry.id)
                                   .options(joinedload(Note.author))):
        entries.append({"kind": "note", "at": note.created_at, "actor": note.author,
                        "text": note.body, "id": f"n{note.id}"})
    for task in db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id)
                                   .options(joinedload(Task.assignee), joinedload(Task.completed_by))):
        entries.append({"kind": "task", "at": task.created_at, "actor": None, "task": task,
                        "text": "", "id": f"t{task.id}"})
        if task.completed_at:
            entries.append({"kind": "task_closed", "at": task.completed_at,
                            "actor": task.completed_by, "task": task, "text": "",
                            "id": f"u{task.id}"})
    for decision in db.session.scalars(select(RoutingDecision).where(
            RoutingDecision.inquiry_id == inquiry.id).options(
            joinedload(RoutingDecision.actor), joinedload(RoutingDecision.center),
            joinedload(RoutingDecision.coordinator))):
        entries.append({"kind": "routing", "at": decision.created_at, "actor": decision.actor,
                        "decision": decision, "text": "", "id": f"r{decision.id}"})
    if reviews is None:
        reviews = list(db.session.scalars(select(ClinicalReview).where(
            ClinicalReview.inquiry_id == inquiry.id).options(
            joinedload(ClinicalReview.reviewer), joinedload(ClinicalReview.decided_by),
            joinedload(ClinicalReview.created_by))))
    for review in reviews:
        if review.id is None:
            continue
        entries.append({"kind": "review_assigned", "at": review.created_at, "actor": review.created_by,
                        "review": review, "text": review.reviewer_label, "id": f"v{review.id}"})
        if review.decided_at is not None:
            entries.append({"kind": "review", "at": review.decided_at, "actor": review.decided_by,
                            "review": review, "text": review.reason, "id": f"w{review.id}",
                            "items": [labels.RECORD_ITEM_LABELS.get(key, key)
                                      for key in review.requested_items or []]})
    from .care import timeline_entries  # money, appointments, travel, the online opinion
    entries.extend(timeline_entries(inquiry, care))
    entries.sort(key=lambda e: (e["at"], e["id"]), reverse=True)
    return entries


def coordinators_for(user: User) -> list[User]:
    """Staff a case can be assigned to."""
    return list(db.session.scalars(select(User).where(User.is_active.is_(True),
                                                      User.role.in_(("coordinator", "manager")))
                                   .order_by(User.name)))
