"""The one visibility rule: which inquiries and patients a user may see."""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, func, or_, select, true

from ..extensions import db
from ..models import Inquiry, Patient, User
from .errors import NotFound


def inquiry_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Inquiry``: managers see every case, coordinators the cases of their
    centers, their own and the not yet routed ones; admins manage accounts, not cases."""
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
    return or_(func.coalesce(Inquiry.center_id, 0).in_([0, *my_centers]),
               Inquiry.coordinator_id == user.id)


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
    return inquiry


def get_patient(user: User, patient_id) -> Patient:
    """The patient if ``user`` may see them, else ``NotFound``."""
    patient_id = as_id(patient_id)
    patient = db.session.scalars(visible_patients(user).where(Patient.id == patient_id)).first()
    if patient is None:
        raise NotFound()
    return patient
