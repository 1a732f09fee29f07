"""The one visibility rule: which inquiries and patients a user may see."""
from __future__ import annotations

from datetime import datetime

from flask import g, has_app_context, has_request_context
from sqlalchemy import ColumnElement, exists, false, func, or_, select, true

from ..extensions import db
from ..models import BreakGlassGrant, Inquiry, Patient, User
from ..models.base import utcnow
from .errors import NotFound


def inquiry_scope(user: User, *, grants: bool = True) -> ColumnElement[bool]:
    """A WHERE clause on ``Inquiry``: managers see every case, coordinators the cases of their
    centers, their own, the not yet routed ones and those of an unexpired break-glass grant
    (unless ``grants`` is false); admins manage accounts, not cases."""
    if not user or not user.is_active:
        return false()
    if user.role == "manager":
        return true()
    if user.role != "coordinator":
        return false()
    # Literal ids (a handful, loaded once per request with the user) let the database use
    # its indexes on center and coordinator.
    my_centers = [center.id for center in user.centers]
    # Not routed yet (no center) counts as center 0: one IN that a covering index answers.
    clauses = [func.coalesce(Inquiry.center_id, 0).in_([0, *my_centers]), Inquiry.coordinator_id == user.id]
    granted = granted_inquiries(user) if grants else {}
    if granted:  # a handful of literal ids again: the primary key answers them
        clauses.append(Inquiry.id.in_(sorted(granted)))
    return or_(*clauses)


def in_own_scope(user: User, inquiry: Inquiry) -> bool:
    """``inquiry_scope(user, grants=False)`` for one loaded inquiry, without a query."""
    if user.role == "manager":
        return True
    return user.role == "coordinator" and (
        inquiry.coordinator_id == user.id or inquiry.center_id is None
        or inquiry.center_id in {center.id for center in user.centers})


def granted_inquiries(user: User, now: datetime | None = None) -> dict[int, int]:
    """The cases of ``user``'s unexpired break-glass grants: inquiry id -> grant id. No query
    at all unless a grant of theirs is still running (``User.break_glass_until``); then one
    per request, whatever the number of lists on the page."""
    now = now or utcnow()
    if user.break_glass_until is None or user.break_glass_until <= now:
        return {}
    cache = g.setdefault("break_glass_grants", {}) if has_app_context() else {}
    key = (user.id, user.break_glass_until)
    rows = cache.get(key)
    if rows is None:
        rows = cache[key] = db.session.execute(
            select(BreakGlassGrant.inquiry_id, BreakGlassGrant.id, BreakGlassGrant.expires_at)
            .where(BreakGlassGrant.user_id == user.id, BreakGlassGrant.expires_at > now)).all()
    return {row.inquiry_id: row.id for row in rows if row.expires_at > now}


def forget_grants() -> None:
    """A grant was made or ended: the next scope reads the grants again."""
    if has_app_context():
        g.pop("break_glass_grants", None)


def _note_break_glass(user: User, inquiry: Inquiry) -> None:
    """Remember that ``user`` reached ``inquiry`` through a grant: the web layer writes one
    audit event per request and case once the request is answered (even a refused one);
    elsewhere the event is written now."""
    if has_request_context():
        g.setdefault("break_glass_uses", {})[(user.id, inquiry.id)] = (user, inquiry)
        return
    from .break_glass import record_use  # the break-glass service builds on this module
    record_use(user, inquiry)


def patient_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Patient``: those with at least one inquiry the user may see."""
    if user and user.is_active and user.role == "manager":
        return true()
    return exists().where(Inquiry.patient_id == Patient.id, inquiry_scope(user))


def visible_inquiries(user: User):
    """``select(Inquiry)`` restricted to what ``user`` may see."""
    return select(Inquiry).where(inquiry_scope(user))


def visible_patients(user: User):
    """``select(Patient)`` restricted to what ``user`` may see."""
    return select(Patient).where(patient_scope(user))


MAX_ID = 2**31 - 1


def as_id(value) -> int:
    """A database id from untrusted input, else ``NotFound``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 0 < number <= MAX_ID:
        raise NotFound()
    return number


def get_inquiry(user: User, inquiry_id, *, for_update: bool = False) -> Inquiry:
    """The inquiry if ``user`` may see it, else ``NotFound`` (never a hint that it exists)."""
    inquiry_id = as_id(inquiry_id)
    stmt = visible_inquiries(user).where(Inquiry.id == inquiry_id)
    if for_update:
        stmt = stmt.with_for_update()
    inquiry = db.session.scalars(stmt).first()
    if inquiry is None:
        raise NotFound()
    if user.role == "coordinator" and not in_own_scope(user, inquiry):
        _note_break_glass(user, inquiry)
    return inquiry


def get_patient(user: User, patient_id) -> Patient:
    """The patient if ``user`` may see them, else ``NotFound``."""
    patient_id = as_id(patient_id)
    patient = db.session.scalars(visible_patients(user).where(Patient.id == patient_id)).first()
    if patient is None:
        raise NotFound()
    granted = granted_inquiries(user) if user.role == "coordinator" else {}
    if granted and not db.session.scalar(select(exists().where(
            Inquiry.patient_id == patient.id, inquiry_scope(user, grants=False)))):
        for inquiry in db.session.scalars(select(Inquiry).where(Inquiry.patient_id == patient.id,
                                                                Inquiry.id.in_(sorted(granted)))):
            _note_break_glass(user, inquiry)
    return patient
