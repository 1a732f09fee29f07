"""The admins' view of the audit trail: filters, pages newest first, the CSV download.

Each filter has an index that leads with it and goes on with ``(created_at, id)``, the order of
the pages, so a page is one index range at any size of the trail; the next page starts below
the last row shown (keyset), never at an offset.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, or_, select

from ..extensions import db
from ..models import AuditEvent, User
from .export import _cell
from .formatting import staff_zone

CSV_COLUMNS = ("id", "created_at", "actor_id", "actor", "service", "role", "action", "outcome", "record_type",
               "record_id", "patient_id", "inquiry_id", "address", "origin", "detail", "prev_hash", "hash")


@dataclass(frozen=True)
class Filters:
    """What the admin looks for; None is "any". Dates are days in the center's time zone, both
    included."""

    actor_id: int | None = None
    service: str | None = None
    action: str | None = None
    outcome: str | None = None
    patient_id: int | None = None
    record_type: str | None = None
    record_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def names(self) -> list[str]:
        """The filters in use, by name (for the trail: never their values)."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=staff_zone())


def statement(filters: Filters) -> Select:
    """``select(AuditEvent)`` with the filters, newest first."""
    stmt = select(AuditEvent)
    for name in ("actor_id", "service", "action", "outcome", "patient_id", "record_type", "record_id"):
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(getattr(AuditEvent, name) == value)
    if filters.date_from is not None:
        stmt = stmt.where(AuditEvent.created_at >= _start_of(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(AuditEvent.created_at < _start_of(filters.date_to + timedelta(days=1)))
    return stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def _below(stmt: Select, created_at: datetime, event_id: int) -> Select:
    return stmt.where(or_(AuditEvent.created_at < created_at,
                          and_(AuditEvent.created_at == created_at, AuditEvent.id < event_id)))


@dataclass
class Page:
    """One page of events, the staff who acted (id -> user), and the id the next page starts
    below (None on the last page)."""

    events: list[AuditEvent]
    actors: dict[int, User]
    next_before: int | None


def actors_of(events) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(sorted(ids))))}


def page(filters: Filters, *, before: int | None = None, limit: int = 50) -> Page:
    """The newest ``limit`` events that match, below event ``before`` when given."""
    stmt = statement(filters)
    if before is not None:
        cursor = db.session.scalar(select(AuditEvent.created_at).where(AuditEvent.id == before))
        if cursor is not None:
            stmt = _below(stmt, cursor, before)
    events = list(db.session.scalars(stmt.limit(limit + 1)))
    more = len(events) > limit
    events = events[:limit]
    return Page(events, actors_of(events), events[-1].id if more and events else None)


class CsvExport:
    """Every matching event as CSV text in chunks, ``batch`` rows at a time, newest first
    (memory stays flat, nothing is held across a chunk); ``rows`` counts what was written.
    Cells are safe from formula injection."""

    def __init__(self, filters: Filters, *, batch: int = 1000):
        self.filters, self.batch, self.rows = filters, max(1, int(batch)), 0

    def __iter__(self) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        cursor = None
        while True:
            stmt = statement(self.filters)
            if cursor is not None:
                stmt = _below(stmt, *cursor)
            events = list(db.session.scalars(stmt.limit(self.batch)))
            actors = actors_of(events)
            for event in events:
                actor = actors.get(event.actor_id)
                writer.writerow([_cell(v) for v in (
                    event.id, event.created_at, event.actor_id, actor.email if actor else None, event.service,
                    event.role, event.action, event.outcome, event.record_type, event.record_id,
                    event.patient_id, event.inquiry_id, event.address, event.origin, event.detail,
                    event.prev_hash, event.hash)])
            self.rows += len(events)
            if events:
                cursor = (events[-1].created_at, events[-1].id)
            db.session.expunge_all()
            yield buffer.getvalue()
            if len(events) < self.batch:
                return
            buffer.seek(0)
            buffer.truncate()
