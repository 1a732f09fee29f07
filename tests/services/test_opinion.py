"""The online second opinion: questions and specialist, the opinion uploaded and released in the
patient's language, follow-up questions answered as addenda, the turnaround in business days,
the gate out of in_care, and the turn into an in-person case."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from crm.models import OutboundMail, StageChange
from crm.services import opinion, pipeline, uploads
from crm.services.errors import StaleVersion, ValidationError
from crm.services.followups import calendar
from tests.web.test_portal import PDF


def stored(name="opinion.pdf"):
    return uploads.store(PDF, name, upload_dir=current_app.config["UPLOAD_DIR"], max_bytes=len(PDF))


def online_case(factory, coordinator, to="in_care", **kw):
    return factory.walk(factory.inquiry(service="second_opinion_online", **kw), to, coordinator)


def test_the_physicians_questions_are_kept_for_the_specialist(factory, db):
    coordinator = factory.user()
    inquiry = online_case(factory, coordinator, "records")
    with pytest.raises(ValidationError) as refused:
        opinion.save_request(inquiry, {"specialist_name": "Dr. Lee"}, actor=coordinator)
    assert "physician_questions" in refused.value.fields
    request = opinion.save_request(inquiry, {"physician_questions": "Is ablation indicated?",
                                             "specialist_name": "Dr. Lee", "specialty": "Electrophysiology"},
                                   actor=coordinator)
    assert request.physician_questions == "Is ablation indicated?" and request.specialty == "Electrophysiology"


def test_the_turnaround_is_counted_in_business_days_from_when_writing_begins(factory, db, app):
    coordinator = factory.user()
    inquiry = online_case(factory, coordinator)
    started = [c for c in inquiry.stage_changes if c.to_stage == "in_care"][-1].created_at
    due = calendar().add_business_days(started, app.config["OPINION_TURNAROUND_DAYS"])
    turnaround = opinion.turnaround(inquiry, opinion.opinion_of(inquiry))
    assert turnaround.due_at == due and turnaround.state == "on_time"
    assert opinion.turnaround(inquiry, None, now=due - timedelta(minutes=1)).state == "due_soon"
    assert opinion.turnaround(inquiry, None, now=due + timedelta(minutes=1)).state == "late"


def test_the_opinion_is_released_in_the_patients_language_and_holds_in_care_until_then(factory, db):
    coordinator = factory.user()
    inquiry = online_case(factory, coordinator, preferred_language="pt-BR")
    with pytest.raises(opinion.OpinionNotReleased):
        pipeline.transition_inquiry(inquiry, "follow_up", actor=coordinator, expected_version=inquiry.version)
    with pytest.raises(ValidationError):
        opinion.release(inquiry, actor=coordinator)  # nothing uploaded yet
    document = opinion.upload_opinion(inquiry, stored(), actor=coordinator)
    assert document.kind == "opinion"
    opinion.release(inquiry, actor=coordinator)
    pipeline.transition_inquiry(inquiry, "follow_up", actor=coordinator, expected_version=inquiry.version)
    [mail] = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == inquiry.id,
                                                           OutboundMail.kind == "opinion_ready")).all()
    assert mail.language == "pt-BR"  # once: the move to follow-up sends no second one
    assert opinion.readable_documents(inquiry, opinion.opinion_of(inquiry)) == [document]


def test_follow_up_questions_are_answered_as_addenda(factory, db):
    coordinator = factory.user()
    inquiry = online_case(factory, coordinator)
    with pytest.raises(ValidationError):
        opinion.ask(inquiry, "Can I fly?", asked_by="patient")  # before the opinion is out
    opinion.upload_opinion(inquiry, stored(), actor=coordinator)
    opinion.release(inquiry, actor=coordinator)
    question = opinion.ask(inquiry, "Can I fly after the procedure?", asked_by="patient")
    physician = opinion.ask(inquiry, "Which anticoagulant?", asked_by="physician", actor=coordinator)
    addendum = opinion.answer(inquiry, question.id, stored("addendum.pdf"), actor=coordinator)
    assert addendum.answered_at is not None and addendum.document.kind == "addendum"
    with pytest.raises(ValidationError):
        opinion.answer(inquiry, question.id, stored("again.pdf"), actor=coordinator)
    readable = opinion.readable_documents(inquiry, opinion.opinion_of(inquiry))
    assert addendum.document in readable and physician.document is None
    assert db.session.scalars(select(OutboundMail.kind).where(OutboundMail.inquiry_id == inquiry.id,
                                                              OutboundMail.kind == "opinion_addendum")).all()


def test_the_patient_decides_to_come_the_case_becomes_in_person_with_scheduling_and_travel(factory, db):
    coordinator = factory.user()
    inquiry = online_case(factory, coordinator, "follow_up")
    with pytest.raises(StaleVersion):
        opinion.convert_to_in_person(inquiry, actor=coordinator, expected_version=inquiry.version - 1)
    request = opinion.convert_to_in_person(inquiry, actor=coordinator, expected_version=inquiry.version)
    assert inquiry.service == "second_opinion_in_person" and inquiry.stage == "scheduling"
    assert "scheduling" in pipeline.path_for(inquiry.service) and "travel" in pipeline.path_for(inquiry.service)
    assert request.converted_at is not None
    change = db.session.scalars(select(StageChange).where(StageChange.inquiry_id == inquiry.id)
                                .order_by(StageChange.id.desc())).first()
    assert (change.from_stage, change.to_stage) == ("follow_up", "scheduling")
    from crm.services.care import timeline_entries
    assert any("in-person second opinion" in e["text"] for e in timeline_entries(inquiry))
    with pytest.raises(ValidationError):
        opinion.convert_to_in_person(inquiry, actor=coordinator, expected_version=inquiry.version)
