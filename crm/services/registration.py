"""Registration: the hospital's medical record number (MRN), entered when the registration
center issues it; its format (``MRN_PATTERN``) and its uniqueness across patients."""
from __future__ import annotations

import re
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Inquiry, Patient, User
from ..models.base import utcnow
from . import audit, followups
from .errors import StaleVersion, ValidationError, flush_or_conflict
from .validation import clean_text
from .visibility import patient_scope

#: The default format: 7 to 10 digits (``CRM_MRN_PATTERN`` sets the hospital's own).
DEFAULT_PATTERN = r"[0-9]{7,10}"
MAX_LEN = 20


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def pattern() -> re.Pattern:
    """The configured format, matched against the whole number."""
    return _compiled(str(current_app.config.get("MRN_PATTERN") or DEFAULT_PATTERN))


def check_mrn(value, *, patient: Patient | None, actor: User | None, field: str = "mrn") -> str:
    """``value`` as a medical record number of this hospital, not on another patient's record.
    Raises ``ValidationError`` on ``field``; the message names the other patient only to a user
    who may see them.

    :param patient: whose number it is to be (None: a patient not yet recorded).
    """
    errors: dict = {}
    mrn = clean_text(value, field, errors, max_len=MAX_LEN, required=True)
    if not errors and not pattern().fullmatch(mrn):
        errors[field] = _l("This is not a medical record number of this hospital (they look like "
                           "%(example)s). Check it against the registration center's message.",
                           example=current_app.config.get("MRN_EXAMPLE") or "1234567")
    if errors:
        raise ValidationError(fields=errors)
    stmt = select(Patient).where(Patient.mrn == mrn)
    if patient is not None and patient.id is not None:
        stmt = stmt.where(Patient.id != patient.id)
    other = db.session.scalars(stmt.limit(1)).first()
    if other is not None:
        raise ValidationError(field, taken_message(other, actor))
    return mrn


def taken_message(other: Patient, actor: User | None):
    """The number is on ``other``'s record: named only if ``actor`` may see that patient."""
    visible = actor is not None and db.session.scalar(
        select(Patient.id).where(Patient.id == other.id, patient_scope(actor))) is not None
    if visible:
        return _l("This medical record number is already on the record of %(name)s. Check the "
                  "number, or merge the two records if they are the same person.", name=other.full_name)
    return _l("This medical record number is already on another patient's record. Check the number "
              "with the registration center.")


def register_mrn(inquiry: Inquiry, value, *, actor: User, expected_version) -> bool:
    """Enter the MRN the registration center issued for the case's patient; the reminders to
    enter it are done. Returns whether it changed. Flushes.

    :param expected_version: the patient's ``version`` the form was read at.
    """
    patient = inquiry.patient
    try:
        if int(expected_version) != patient.version:
            raise StaleVersion()
    except (TypeError, ValueError):
        raise ValidationError("version", _l("The version you read this record at is missing.")) from None
    mrn = check_mrn(value, patient=patient, actor=actor)
    if mrn == patient.mrn:
        return False
    previous = patient.mrn
    patient.mrn = mrn
    patient.refresh_search_text()
    patient.bump_version()
    try:
        with db.session.begin_nested():  # another session may have taken the number meanwhile
            flush_or_conflict(db.session)
    except IntegrityError:
        raise ValidationError("mrn", _l("This medical record number is already on another patient's "
                                        "record. Check the number with the registration center.")) from None
    now = utcnow()
    open_cases = db.session.scalars(select(Inquiry).where(Inquiry.patient_id == patient.id,
                                                          Inquiry.stage != "closed")
                                    .options(selectinload(Inquiry.tasks))).all()
    for case in open_cases:
        followups.on_event(case, "mrn_registered", actor=actor, at=now)
    audit.record("change", actor=actor, patient=patient, inquiry=inquiry,
                 detail="fields=mrn" + (" corrected" if previous else ""))
    return True
