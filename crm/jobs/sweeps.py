"""Periodic sweeps over the pipeline: stalled cases, overdue tasks, reminders, digests."""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import force_locale
from ..models import ChecklistItem, Inquiry, Task, User
from ..models.base import utcnow
from ..models.task import OPEN
from ..services import audit, conversation, followups, outbox
from ..services.formatting import local_time
from ..services.pipeline import CLOSED
from ..services.worklist import STALLED_AFTER

log = logging.getLogger(__name__)
#: An overdue task is brought to the managers' attention after this much extra time.
ESCALATE_AFTER = timedelta(hours=4)


def detect_stalled_cases(now=None, *, batch: int = 1000) -> int:
    """Open a ``stalled_case`` task on every open inquiry without activity for seven days that
    has none open yet (a case waiting on the patient is chased instead); returns how many were
    opened. Running it twice opens nothing twice."""
    now = now or utcnow()
    has_open = exists().where(Task.inquiry_id == Inquiry.id, Task.kind == "stalled_case",
                              Task.state == OPEN)
    rows = db.session.execute(
        select(Inquiry.id, Inquiry.coordinator_id)
        .where(Inquiry.stage != CLOSED, Inquiry.updated_at < now - STALLED_AFTER,
               Inquiry.waiting_since.is_(None), ~has_open)
        .order_by(Inquiry.id).limit(batch)).all()
    if rows:
        db.session.execute(Task.__table__.insert(), [
            {"inquiry_id": inquiry_id, "kind": "stalled_case", "state": OPEN, "assignee_id": assignee,
             "due_at": now, "note": "", "created_at": now} for inquiry_id, assignee in rows])
    return len(rows)


def _task_line(task: Task, now: datetime) -> dict:
    return {"reference": task.inquiry.reference, "label": followups.task_label(task),
            "due": local_time(task.due_at, "short"), "overdue": task.due_at < now,
            "assignee": task.assignee.name if task.assignee else "—"}


def escalate_overdue_tasks(now=None, *, batch: int = 50_000, listed: int = 50) -> int:
    """Tasks overdue for longer than ``ESCALATE_AFTER`` (clocks not paused) are escalated once:
    marked, and mailed to every manager in the same transaction (the ``listed`` oldest named,
    the rest counted). Returns how many."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(Task.id).where(Task.state == OPEN, Task.escalated_at.is_(None), Task.paused_at.is_(None),
                              Task.due_at < now - ESCALATE_AFTER)
        .order_by(Task.due_at).limit(batch)).all()
    if not ids:
        return 0
    oldest = db.session.scalars(select(Task).where(Task.id.in_(ids[:listed]))
                                .options(joinedload(Task.inquiry), joinedload(Task.assignee))
                                .order_by(Task.due_at)).all()
    for chunk in range(0, len(ids), 5000):
        db.session.execute(update(Task).where(Task.id.in_(ids[chunk:chunk + 5000]))
                           .values(escalated_at=now), execution_options={"synchronize_session": False})
    managers = db.session.scalars(select(User).where(User.role == "manager", User.is_active.is_(True)))
    for manager in managers:
        with force_locale(manager.ui_locale):
            lines = [_task_line(t, now) for t in oldest]
        outbox.queue_staff_mail(manager, "escalation", tasks=lines, count=len(ids),
                                more=len(ids) - len(oldest))
    return len(ids)


def send_records_reminders(now=None, *, batch: int = 500) -> int:
    """Each records chase that is due, on a case in ``records`` with records still missing,
    sends the patient a reminder in their language and plans the next chase (after three, a
    coordinator calls). Returns how many reminders were queued; a reminder is never queued
    twice (its key is the chase task)."""
    now = now or utcnow()
    missing = exists().where(ChecklistItem.inquiry_id == Task.inquiry_id,
                             ChecklistItem.received_at.is_(None))
    ids = db.session.scalars(
        select(Task.id).join(Task.inquiry)
        .where(Task.kind == "records_chase", Task.state == OPEN, Task.due_at <= now,
               Inquiry.stage == "records", missing)
        .order_by(Task.due_at).limit(batch)).all()
    sent = 0
    for task_id in ids:
        try:
            with db.session.begin_nested():
                task = db.session.get(Task, task_id)
                items = conversation.missing_items(task.inquiry)
                row = outbox.queue_patient_mail(task.inquiry, "reminder", dedupe_key=f"reminder:{task.id}",
                                                items=conversation.item_labels(items))
                if row is None and (not task.inquiry.patient.email or task.inquiry.patient.email_bounced_at):
                    continue  # no address: the chase stays with the coordinator
                followups.complete_by_system(task, at=now)
                if row is not None:  # the patient's address and missing records were read for it
                    audit.record("change", actor=None, inquiry=task.inquiry,
                                 detail=f"mail=reminder task={task.id}")
                sent += row is not None
        except Exception:  # noqa: BLE001 - one bad case never stops the sweep
            log.exception("records reminder for task %s failed", task_id)
    return sent


def send_daily_digests(now=None) -> int:
    """On business days, from ``DIGEST_AT`` (center's time), each coordinator with follow-ups
    due gets one digest a day: references and tasks, no patient details. Returns how many."""
    now = now or utcnow()
    cal = followups.calendar()
    local = now.astimezone(cal.zone)
    if not cal.is_business_day(local.date()) or local.time() < time.fromisoformat(current_app.config["DIGEST_AT"]):
        return 0
    tonight = followups.end_of_local_day(now)
    queued = 0
    for user in db.session.scalars(select(User).where(User.role == "coordinator", User.is_active.is_(True))):
        if user.is_away:
            continue
        tasks = db.session.scalars(
            select(Task).where(Task.assignee_id == user.id, Task.state == OPEN, Task.paused_at.is_(None),
                               Task.due_at < tonight)
            .options(joinedload(Task.inquiry)).order_by(Task.due_at).limit(50)).all()
        if not tasks:
            continue
        with force_locale(user.ui_locale):
            lines = [_task_line(t, now) for t in tasks]
        row = outbox.queue_staff_mail(user, "digest", dedupe_key=f"digest:{user.id}:{local.date()}",
                                      tasks=lines, overdue=sum(t.due_at < now for t in tasks),
                                      today=sum(t.due_at >= now for t in tasks))
        queued += row is not None
    return queued


def remove_orphan_files() -> int:
    """Stored files that no document points to (left by a process killed mid-upload), removed."""
    from ..services.uploads import remove_orphans
    return remove_orphans(current_app.config["UPLOAD_DIR"])
