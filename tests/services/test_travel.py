"""The travel plan: dates in order, interpreter, companions, passports masked but for the case's
coordinators, the patient's confirmation, and the visa letter as a PDF on letterhead."""
from __future__ import annotations

import io
import sys
import time
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from crm.models import Document, OutboundMail, TravelPlan
from crm.services import travel, uploads, visa_letter
from crm.services.care_fields import mask
from crm.services.errors import ValidationError

PLAN = {"arrival_date": "2031-03-10", "departure_date": "2031-03-24", "arrival_flight": "SV 35",
        "departure_flight": "SV 36", "lodging": "Longwood Inn", "pickup_needed": True, "interpreter_needed": True,
        "special_needs": "Wheelchair at the airport", "passport_name": "LAYLA HADDAD", "passport_number": "k 1234-5678",
        "passport_country": "SA", "passport_expires_on": "2033-01-01"}


def test_a_plan_is_saved_with_its_interpreter_in_the_patients_language(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(preferred_language="ar")
    plan = travel.save_plan(inquiry, PLAN, actor=coordinator)
    assert plan.passport_number == "K12345678" and plan.interpreter_language == "ar"
    assert (plan.arrival_date, plan.departure_date) == (date(2031, 3, 10), date(2031, 3, 24))
    # saved again without a number: the one on file is kept
    travel.save_plan(inquiry, {**PLAN, "passport_number": "", "lodging": "Hotel"}, actor=coordinator,
                     expected_version=plan.version)
    assert plan.passport_number == "K12345678" and plan.lodging == "Hotel"


@pytest.mark.parametrize("change, field, message", [
    ({"departure_date": "2031-03-01"}, "departure_date", "departure cannot be before the arrival"),
    ({"passport_expires_on": "2031-03-20"}, "passport_expires_on", "expires before the trip ends"),
    ({"passport_number": "12"}, "passport_number", "5 to 20 letters and digits"),
    ({"interpreter_language": "xx"}, "interpreter_language", "Choose a language"),
    ({"arrival_date": "10/03/2031"}, "arrival_date", "YYYY-MM-DD"),
])
def test_a_bad_plan_is_refused_and_nothing_is_saved(factory, db, change, field, message):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as refused:
        travel.save_plan(inquiry, {**PLAN, **change}, actor=coordinator)
    assert message in str(refused.value.fields[field])
    assert db.session.scalars(select(TravelPlan).where(TravelPlan.inquiry_id == inquiry.id)).all() == []


def test_passport_numbers_are_whole_only_for_the_cases_coordinators(factory, db):
    mine = factory.user(centers=("cardiology",))
    other = factory.user(centers=("neurology",))
    manager = factory.user(role="manager")
    inquiry = factory.inquiry()
    assert travel.can_see_passports(mine, inquiry)
    assert not travel.can_see_passports(other, inquiry) and not travel.can_see_passports(manager, inquiry)
    assert mask("K12345678") == "••••••678"


def test_the_patient_confirms_and_corrects_the_plan(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(preferred_language="zh-Hans")
    travel.save_plan(inquiry, PLAN, actor=coordinator)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        travel.confirm_by_patient(inquiry, {**PLAN, "departure_date": "2031-03-01"})
    assert "departure_date" in refused.value.fields
    db.session.rollback()
    plan = travel.confirm_by_patient(inquiry, {**PLAN, "arrival_flight": "CA 981", "message": ""})
    assert plan.patient_confirmed_at is not None and plan.patient_corrected == ["arrival_flight"]
    assert plan.arrival_flight == "CA 981"


def test_a_visa_letter_without_passport_data_is_refused(factory, db, app):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as no_plan:
        visa_letter.generate(inquiry, actor=coordinator)
    assert "passport" in no_plan.value.fields["visa_letter"]
    travel.save_plan(inquiry, {**PLAN, "passport_number": ""}, actor=coordinator)
    travel.add_companion(inquiry, {"full_name": "Omar Haddad", "relationship": "spouse"}, actor=coordinator)
    with pytest.raises(ValidationError) as refused:
        visa_letter.generate(inquiry, actor=coordinator)
    assert "passport number and country are missing" in refused.value.fields["visa_letter"]
    assert "The passport of Omar Haddad is missing" in refused.value.fields["visa_letter"]
    assert db.session.scalars(select(Document).where(Document.inquiry_id == inquiry.id)).all() == []


def test_the_visa_letter_is_a_pdf_on_letterhead_with_every_passport_made_in_under_two_seconds(factory, db, app):
    coordinator = factory.user(name="Maria Costa")
    inquiry = factory.inquiry(given_name="Layla", family_name="Haddad")
    travel.save_plan(inquiry, PLAN, actor=coordinator)
    travel.add_companion(inquiry, {"full_name": "OMAR HADDAD", "relationship": "spouse",
                                   "date_of_birth": "1978-02-01", "passport_number": "K7654321",
                                   "passport_country": "SA", "passport_expires_on": "2032-05-05"}, actor=coordinator)
    started = time.perf_counter()
    document = visa_letter.generate(inquiry, actor=coordinator)
    assert time.perf_counter() - started < 2
    assert document.kind == "visa_letter" and document.content_type == "application/pdf"
    pdf = uploads.read_stored(app.config["UPLOAD_DIR"], document.storage_name, sha256=document.sha256)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (app.config["HOSPITAL_NAME"], "LAYLA HADDAD", "K12345678", "OMAR HADDAD", "K7654321",
                     inquiry.reference, "Maria Costa", "Saudi Arabia"):
        assert expected in text, expected
    row = visa_letter.send(inquiry, actor=coordinator)
    assert row.kind == "visa_letter" and row.attachments[0].filename.endswith(".pdf")
    assert PdfReader(io.BytesIO(row.attachments[0].data)).pages


def test_without_weasyprint_the_letter_is_refused_with_a_clear_message(factory, db, monkeypatch):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    travel.save_plan(inquiry, PLAN, actor=coordinator)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as on a server without it: import fails
    with pytest.raises(visa_letter.PdfUnavailable) as refused:
        visa_letter.generate(inquiry, actor=coordinator)
    assert refused.value.status == 503 and "libpango" in str(refused.value.message)
    assert db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "visa_letter",
                                                         OutboundMail.inquiry_id == inquiry.id)).all() == []
