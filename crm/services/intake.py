"""Intake: register an inquiry (and find or create its patient) from any entry point."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ..extensions import db
from ..models import Center, Inquiry, Note, Patient, StageChange, User
from ..models.base import utcnow
from ..models.inquiry import SERVICES, SOURCES
from ..models.patient import SEXES
from . import audit, conversation, duplicates, followups, registration, routing
from .errors import NotFound, StaleVersion, ValidationError, flush_or_conflict
from .visibility import as_id
from .pipeline import check_version
from .validation import (clean_birth_date, clean_choice, clean_country, clean_email,
                         clean_language, clean_phone, clean_text, clean_timezone)

REASON_MAX = 5000
PATIENT_FIELDS = ("given_name", "family_name", "email", "phone", "date_of_birth", "sex", "country",
                  "preferred_language", "timezone")
REFERRING_FIELDS = ("referring_name", "referring_email", "referring_institution",
                    "referring_country")
#: The fields that tell whether two records may be the same person (``services.duplicates``).
DUPLICATE_FIELDS = frozenset(("given_name", "family_name", "email", "phone", "date_of_birth"))


def clean_patient_data(data: Mapping, errors: dict, *, partial: bool = False) -> dict:
    """Validate the patient's fields of ``data``; only those present when ``partial``."""
    out = {}

    def want(name):
        return not partial or name in data

    if want("given_name"):
        out["given_name"] = clean_text(data.get("given_name"), "given_name", errors, max_len=100,
                                       required=True)
    if want("family_name"):
        out["family_name"] = clean_text(data.get("family_name"), "family_name", errors,
                                        max_len=100, required=True)
    if want("country"):
        out["country"] = clean_country(data.get("country"), "country", errors)
    if want("email"):
        out["email"] = clean_email(data.get("email"), "email", errors)
    if want("phone"):
        out["phone"] = clean_phone(data.get("phone"), "phone", errors, region=out.get("country"))
    if want("date_of_birth"):
        out["date_of_birth"] = clean_birth_date(data.get("date_of_birth"), "date_of_birth", errors)
    if want("sex"):
        out["sex"] = clean_choice(data.get("sex"), "sex", errors, SEXES)
    if want("preferred_language"):
        out["preferred_language"] = clean_language(data.get("preferred_language"),
                                                   "preferred_language", errors)
    if want("timezone"):
        out["timezone"] = clean_timezone(data.get("timezone"), "timezone", errors)
    if want("mrn") and "mrn" in data:
        out["mrn"] = clean_text(data.get("mrn"), "mrn", errors, max_len=20)
    return out


def clean_case_data(data: Mapping, errors: dict, *, partial: bool = False) -> dict:
    """Validate the inquiry's own fields: service, center, reason, referring physician."""
    out = {}

    def want(name):
        return not partial or name in data

    if want("service"):
        out["service"] = clean_choice(data.get("service"), "service", errors, SERVICES,
                                      required=True)
    if want("center"):
        key = data.get("center") or None
        center = None
        if key is not None:
            center = db.session.scalar(select(Center).where(Center.key == str(key),
                                                            Center.is_active.is_(True)))
            if center is None:
                errors["center"] = _l("Choose one of the centers offered.")
        out["center"] = center
    if want("coordinator_id"):
        out["coordinator"] = _clean_coordinator(data.get("coordinator_id"), errors)
    if want("reason"):
        out["reason"] = clean_text(data.get("reason"), "reason", errors, max_len=REASON_MAX,
                                   required=not partial) or ""
    if want("referring_name"):
        out["referring_name"] = clean_text(data.get("referring_name"), "referring_name", errors,
                                           max_len=120)
    if want("referring_email"):
        out["referring_email"] = clean_email(data.get("referring_email"), "referring_email", errors)
    if want("referring_institution"):
        out["referring_institution"] = clean_text(data.get("referring_institution"),
                                                  "referring_institution", errors, max_len=200)
    if want("referring_country"):
        out["referring_country"] = clean_country(data.get("referring_country"),
                                                 "referring_country", errors)
    return out


def _clean_coordinator(value, errors):
    if value in (None, "", 0, "0"):
        return None
    try:
        user = db.session.get(User, as_id(value))
    except NotFound:
        user = None
    if user is None or not user.is_active or not user.sees_cases:
        errors["coordinator_id"] = _l("Choose one of the coordinators offered.")
        return None
    return user


def find_patient_by_email(email: str | None) -> Patient | None:
    """The existing patient with this email address (case-insensitive), if any."""
    if not email:
        return None
    from .duplicates import surviving_patient
    return surviving_patient(db.session.scalars(select(Patient).where(Patient.email_lower == email.lower())
                                                .order_by(Patient.id).limit(1)).first())


def create_inquiry(data: Mapping, *, source: str, actor: User | None = None,
                   consent: bool = False, origin: str | None = None, acknowledge: bool = True) -> Inquiry:
    """Validate ``data`` field by field, find or create the patient, open the inquiry and
    acknowledge it to the patient. Flushes.

    An existing patient (same email) is reused and only their blank fields are filled in:
    an anonymous visitor never overwrites what the center already knows.
    """
    inquiry = open_inquiry(data, source=source, actor=actor, consent=consent, origin=origin)
    db.session.flush()
    if acknowledge and source != "email":  # mail intake acknowledges once the message is filed
        conversation.acknowledge(inquiry)
    return inquiry


def open_inquiry(data: Mapping, *, source: str, actor: User | None = None, consent: bool = False,
                 origin: str | None = None, contact_required: bool = True,
                 find_patient: Callable[[str | None], Patient | None] = find_patient_by_email,
                 routing_context: routing.Context | None = None) -> Inquiry:
    """``create_inquiry`` without the flush and the acknowledgement: the inquiry, its patient,
    routing, first task and audit event, added to the session. Mail intake opens a whole batch
    this way and writes it at once.

    :param contact_required: False only for mail whose sender address cannot be kept: the case
        is opened all the same, and the coordinator finds another way to answer.
    :param find_patient: how the existing patient is found by email (mail intake also knows
        the senders of its batch not yet written).
    """
    errors: dict = {}
    patient_data = clean_patient_data(data, errors)
    case_data = clean_case_data(data, errors)
    if source not in SOURCES:
        errors["source"] = _l("Choose one of the options offered.")
    if contact_required and not patient_data.get("email") and not patient_data.get("phone") \
            and "email" not in errors and "phone" not in errors:
        errors["email"] = _l("Give an email address or a phone number so that we can answer.")
    if patient_data.get("mrn") and "mrn" not in errors:
        try:  # a patient found by email is checked against the others below, once found
            patient_data["mrn"] = registration.check_mrn(patient_data["mrn"], patient=None, actor=actor)
        except ValidationError as error:
            errors.update(error.fields)
    if errors:
        raise ValidationError(fields=errors)

    now = utcnow()
    patient = find_patient(patient_data.get("email"))
    if patient is None:
        patient = Patient(**patient_data, created_at=now, version=1)
        db.session.add(patient)
    else:
        filled = [f for f, value in patient_data.items() if value and not getattr(patient, f)]
        for field in filled:
            setattr(patient, field, patient_data[field])
        if set(filled) & DUPLICATE_FIELDS:  # compared again with the others, as a new record is
            patient.duplicates_checked_at = None
            flag_modified(patient, "duplicates_checked_at")
    patient.refresh_search_text()
    inquiry = Inquiry(patient=patient, service=case_data["service"], stage="new", source=source,
                      center=case_data.get("center"), coordinator=case_data.get("coordinator"),
                      reason=case_data.get("reason") or "",
                      **{f: case_data.get(f) for f in REFERRING_FIELDS},
                      consent_at=now if consent else None, created_at=now, updated_at=now,
                      stage_entered_at=now, version=1)
    db.session.add(inquiry)
    db.session.add(StageChange(inquiry=inquiry, actor=actor, from_stage=None, to_stage="new",
                               created_at=now))
    routing.route_inquiry(inquiry, actor=actor, context=routing_context)
    followups.on_stage_change(inquiry, None, "new", actor=actor, at=now)  # due to its coordinator
    audit.record("create", actor=actor, inquiry=inquiry, origin=origin, detail=f"source={source}")
    return inquiry


def update_patient(patient: Patient, data: Mapping, *, actor: User, expected_version) -> list[str]:
    """Change the patient's fields present in ``data``; returns the names of those changed."""
    try:
        if int(expected_version) != patient.version:
            raise StaleVersion()
    except (TypeError, ValueError):
        raise ValidationError("version", _l("The version you read this record at is missing.")) \
            from None
    errors: dict = {}
    cleaned = clean_patient_data(data, errors, partial=True)
    if cleaned.get("mrn") and "mrn" not in errors and cleaned["mrn"] != patient.mrn:
        try:  # a number kept as it was is not checked again
            cleaned["mrn"] = registration.check_mrn(cleaned["mrn"], patient=patient, actor=actor)
        except ValidationError as error:
            errors.update(error.fields)
    if errors:
        raise ValidationError(fields=errors)
    changed = [f for f, v in cleaned.items() if getattr(patient, f) != v]
    groups = duplicates.groups_of(patient)
    for field in changed:
        setattr(patient, field, cleaned[field])
    if changed:
        patient.refresh_search_text()
        patient.bump_version()
        flush_or_conflict(db.session)
        audit.record("change", actor=actor, patient=patient, detail="fields=" + ",".join(changed))
        if set(changed) & DUPLICATE_FIELDS:
            duplicates.refresh_groups(groups | duplicates.groups_of(patient))
    return changed


def update_inquiry(inquiry: Inquiry, data: Mapping, *, actor: User, expected_version) -> list[str]:
    """Change the inquiry's own fields present in ``data``; returns the names of those changed."""
    check_version(inquiry, expected_version)
    errors: dict = {}
    cleaned = clean_case_data(data, errors, partial=True)
    if errors:
        raise ValidationError(fields=errors)
    changed = [f for f, v in cleaned.items() if getattr(inquiry, f) != v]
    routed = "center" in changed or "coordinator" in changed
    for field in changed:
        if field not in ("center", "coordinator"):
            setattr(inquiry, field, cleaned[field])
    if routed:
        routing.assign(inquiry, cleaned.get("center", inquiry.center),
                       cleaned.get("coordinator", inquiry.coordinator))
        db.session.flush()
        routing.record_manual(inquiry, actor=actor)
    if changed:
        inquiry.updated_at = utcnow()
        inquiry.bump_version()
        flush_or_conflict(db.session)
        audit.record("change", actor=actor, inquiry=inquiry, detail="fields=" + ",".join(changed))
    return changed


def add_note(inquiry: Inquiry, body: str, *, actor: User):
    """Leave an internal note on the case. Flushes."""
    errors: dict = {}
    body = clean_text(body, "body", errors, max_len=REASON_MAX, required=True)
    if errors:
        raise ValidationError(fields=errors)
    note = Note(inquiry=inquiry, author=actor, body=body, created_at=utcnow())
    db.session.add(note)
    inquiry.updated_at = note.created_at
    flush_or_conflict(db.session)
    audit.record("change", actor=actor, inquiry=inquiry, detail="note")
    return note
