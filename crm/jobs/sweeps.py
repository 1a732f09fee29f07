"""Periodic sweeps over the pipeline: stalled cases, overdue tasks."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select, update

from ..extensions import db
from ..models import Inquiry, Task
from ..models.base import utcnow
from ..models.task import OPEN
from ..services.pipeline import CLOSED
from ..services.worklist import STALLED_AFTER

#: An overdue task is brought to the managers' attention after this much extra time.
ESCALATE_AFTER = timedelta(hours=4)


def detect_stalled_cases(now=None, *, batch: int = 1000) -> int:
    """Open a ``stalled_case`` task on every open inquiry without activity for seven days that
    has none open yet; returns how many were opened. Running it twice opens nothing twice."""
    now = now or utcnow()
    has_open = exists().where(Task.inquiry_id == Inquiry.id, Task.kind == "stalled_case",
                              Task.state == OPEN)
    rows = db.session.execute(
        select(Inquiry.id, Inquiry.coordinator_id)
        .where(Inquiry.stage != CLOSED, Inquiry.updated_at < now - STALLED_AFTER, ~has_open)
        .order_by(Inquiry.id).limit(batch)).all()
    if rows:
        db.session.execute(Task.__table__.insert(), [
            {"inquiry_id": inquiry_id, "kind": "stalled_case", "state": OPEN, "assignee_id": assignee,
             "due_at": now, "note": "", "created_at": now} for inquiry_id, assignee in rows])
    return len(rows)


def escalate_overdue_tasks(now=None) -> int:
    """Mark the tasks overdue for longer than ``ESCALATE_AFTER`` as escalated (once): they
    appear on the managers' list of escalations. Returns how many were escalated."""
    now = now or utcnow()
    result = db.session.execute(
        update(Task).where(Task.state == OPEN, Task.escalated_at.is_(None),
                           Task.due_at < now - ESCALATE_AFTER).values(escalated_at=now))
    return result.rowcount or 0
