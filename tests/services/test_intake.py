"""Registering inquiries: field-by-field validation, one patient per email, nothing half-saved."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crm.models import Inquiry, Patient
from crm.services.errors import ValidationError
from crm.services.intake import create_inquiry, update_patient


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_creates_patient_and_inquiry_with_normalized_fields(factory, db):
    inquiry = create_inquiry(factory.inquiry_data(phone="050 123 4567", country="sa",
                                                  email="Layla.H@Example.com"), source="web_form")
    patient = inquiry.patient
    assert patient.phone == "+966501234567"  # E.164, read with the patient's country
    assert patient.country == "SA"
    assert patient.email == "Layla.H@example.com"
    assert inquiry.stage == "new" and inquiry.source == "web_form" and inquiry.version == 1
    assert inquiry.center.key == "cardiology"
    assert inquiry.stage_changes[0].to_stage == "new"


@pytest.mark.parametrize("field,value", [
    ("email", "not-an-email"), ("phone", "12345"), ("country", "XX"), ("preferred_language", "de"),
    ("date_of_birth", (date.today() + timedelta(days=1)).isoformat()), ("date_of_birth", "31/12/1980"),
    ("given_name", ""), ("given_name", "x" * 101), ("reason", "x" * 5001), ("service", "massage"),
    ("center", "dermatology"), ("timezone", "Mars/Olympus"), ("sex", "robot"),
])
def test_each_bad_field_is_named_and_nothing_is_saved(factory, db, field, value):
    before = (count(db, Patient), count(db, Inquiry))
    with pytest.raises(ValidationError) as error:
        create_inquiry(factory.inquiry_data(**{field: value}), source="phone")
    assert field in error.value.fields
    assert str(error.value.fields[field])
    db.session.rollback()
    assert (count(db, Patient), count(db, Inquiry)) == before


def test_all_errors_are_reported_at_once(factory):
    with pytest.raises(ValidationError) as error:
        create_inquiry(factory.inquiry_data(email="bad", phone="1", country="ZZ"), source="phone")
    assert {"email", "phone", "country"} <= set(error.value.fields)


def test_needs_a_way_to_answer(factory):
    with pytest.raises(ValidationError) as error:
        create_inquiry(factory.inquiry_data(email="", phone=""), source="phone")
    assert "email" in error.value.fields


def test_same_email_reuses_the_patient_without_overwriting(factory, db):
    first = factory.inquiry(email="omar@example.com", given_name="Omar", phone="+966501234567",
                            timezone="")
    second = create_inquiry(factory.inquiry_data(email="OMAR@example.com", given_name="Impostor",
                                                 phone="+966509999999", timezone="Asia/Riyadh"),
                            source="web_form")
    assert second.patient_id == first.patient_id
    patient = second.patient
    assert patient.given_name == "Omar" and patient.phone == "+966501234567"
    assert patient.timezone == "Asia/Riyadh"  # a blank was filled in
    assert len(patient.inquiries) == 2


def test_update_patient_checks_the_version_and_audits_field_names_only(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    patient = inquiry.patient
    changed = update_patient(patient, {"mrn": "12345678", "phone": "+1 617 555 0100"},
                             actor=coordinator, expected_version=patient.version)
    assert set(changed) == {"mrn", "phone"}
    assert patient.version == 2
    from crm.models import AuditEvent
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "change")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.patient_id == patient.id and "mrn" in event.detail
    assert "12345678" not in event.detail and "617" not in event.detail
    from crm.services.errors import StaleVersion
    with pytest.raises(StaleVersion):
        update_patient(patient, {"mrn": "76543210"}, actor=coordinator, expected_version=1)


def test_mrn_is_unique(factory, db):
    coordinator = factory.user()
    a, b = factory.inquiry(), factory.inquiry()
    update_patient(a.patient, {"mrn": "10000001"}, actor=coordinator, expected_version=1)
    with pytest.raises(ValidationError) as error:
        update_patient(b.patient, {"mrn": "10000001"}, actor=coordinator, expected_version=1)
    assert "mrn" in error.value.fields
