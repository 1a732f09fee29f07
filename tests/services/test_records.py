"""The records checklist completed: received (with its document), waived with a reason, required
or optional; the case stays in records while a required record is still to come."""
import pytest
from sqlalchemy import select

from crm.models import AuditEvent, OutboundMail, Task
from crm.services import conversation, pipeline, records
from crm.services.errors import ValidationError
from crm.services.uploads import store


@pytest.fixture
def coordinator(factory):
    return factory.user()


@pytest.fixture
def case(factory, coordinator, db):
    """A case in records, with imaging reports and lab results asked of the patient."""
    inquiry = factory.inquiry(coordinator_id=coordinator.id, preferred_language="en")
    factory.walk(inquiry, "records", coordinator)
    conversation.request_records(inquiry, ["imaging_reports", "lab_results"], actor=coordinator)
    db.session.commit()
    return inquiry


def item(inquiry, key):
    return next(i for i in conversation.checklist(inquiry) if i.item == key)


def move(inquiry, to, actor):
    return pipeline.transition_inquiry(inquiry, to, actor=actor, expected_version=inquiry.version)


def open_kinds(db, inquiry):
    return sorted(t.kind for t in db.session.scalars(select(Task).where(
        Task.inquiry_id == inquiry.id, Task.state == "open")))


def test_the_case_cannot_leave_records_while_a_required_record_is_missing(case, coordinator, db):
    with pytest.raises(pipeline.RecordsMissing) as refused:
        move(case, "clinical_review", coordinator)
    error = refused.value
    assert error.status == 409 and error.code == "records_missing"
    assert "Imaging reports (CT, MRI, ultrasound, X-ray)" in error.message
    assert "Laboratory results from the last six months" in error.message
    assert set(error.fields) == {"checklist.imaging_reports", "checklist.lab_results"}
    assert case.stage == "records"
    # moving back or closing is never held
    assert "intake" in pipeline.allowed_moves(case, coordinator)
    assert pipeline.gate_error(case, "intake") is None and pipeline.gate_error(case, "closed") is None


def test_received_and_waived_records_let_the_case_go_on(case, coordinator, db):
    conversation.mark_received(case, item(case, "imaging_reports").id, actor=coordinator)
    with pytest.raises(pipeline.RecordsMissing) as refused:
        move(case, "clinical_review", coordinator)
    assert set(refused.value.fields) == {"checklist.lab_results"}
    waived = records.waive(case, item(case, "lab_results").id, "  Recent labs are in the summary  ",
                           actor=coordinator)
    assert waived.is_waived and not waived.is_outstanding
    assert waived.waiver_reason == "Recent labs are in the summary" and waived.waived_by_id == coordinator.id
    move(case, "clinical_review", coordinator)
    assert case.stage == "clinical_review"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.inquiry_id == case.id,
                                                        AuditEvent.detail.like("record=lab_results%"))).one()
    assert event.detail == "record=lab_results waived" and "summary" not in event.detail


def test_waiving_needs_a_reason_and_a_record_still_to_come(case, coordinator, db):
    lab = item(case, "lab_results")
    for blank in ("", "   ", None):
        with pytest.raises(ValidationError) as error:
            records.waive(case, lab.id, blank, actor=coordinator)
        assert "reason" in error.value.fields
    with pytest.raises(ValidationError) as error:
        records.waive(case, lab.id, "x" * 501, actor=coordinator)
    assert "reason" in error.value.fields
    with pytest.raises(ValidationError) as error:
        records.waive(case, 999999, "not on this case", actor=coordinator)
    assert "item" in error.value.fields
    assert lab.waived_at is None
    conversation.mark_received(case, lab.id, actor=coordinator)
    with pytest.raises(ValidationError) as error:
        records.waive(case, lab.id, "too late", actor=coordinator)
    assert "arrived already" in str(error.value.fields["reason"])


def test_an_optional_record_does_not_hold_the_case(case, coordinator, db):
    records.set_required(case, item(case, "imaging_reports").id, False, actor=coordinator)
    records.waive(case, item(case, "lab_results").id, "Not needed for this question", actor=coordinator)
    assert pipeline.gate_error(case, "clinical_review") is None
    records.set_required(case, item(case, "imaging_reports").id, True, actor=coordinator)
    assert isinstance(pipeline.gate_error(case, "clinical_review"), pipeline.RecordsMissing)


def test_waiving_the_last_record_ends_the_chase_and_the_wait(case, coordinator, db):
    assert case.waiting_since is not None and "records_chase" in open_kinds(db, case)
    records.waive(case, item(case, "imaging_reports").id, "The patient has none", actor=coordinator)
    assert case.waiting_since is not None and "records_chase" in open_kinds(db, case)  # one still to come
    records.waive(case, item(case, "lab_results").id, "In the summary", actor=coordinator)
    assert case.waiting_since is None
    assert "records_chase" not in open_kinds(db, case) and "review_records" in open_kinds(db, case)


def test_an_emailed_document_brings_a_record(case, coordinator, db, app):
    stored = store(b"%PDF-1.4 labs", "labs.pdf", upload_dir=app.config["UPLOAD_DIR"], max_bytes=10**6)
    document = conversation.add_document(case, stored, source="email")
    lab = item(case, "lab_results")
    records.link_document(case, lab.id, document.id, actor=coordinator)
    assert lab.is_received and document.checklist_item_id == lab.id
    rows = {row.item.item: row for row in records.rows(conversation.checklist(case),
                                                       conversation.documents_of(case))}
    assert rows["lab_results"].state == "received" and rows["lab_results"].documents == [document]
    assert rows["imaging_reports"].state == "missing" and rows["imaging_reports"].documents == []
    with pytest.raises(ValidationError) as error:
        records.link_document(case, item(case, "imaging_reports").id, 999999, actor=coordinator)
    assert "document_id" in error.value.fields
    assert not item(case, "imaging_reports").is_received


def test_a_record_asked_again_after_a_waiver_is_missing_again(case, coordinator, db):
    records.waive(case, item(case, "lab_results").id, "Not now", actor=coordinator)
    missing = conversation.request_records(case, ["lab_results"], actor=coordinator)
    lab = item(case, "lab_results")
    assert lab.is_outstanding and lab.waiver_reason is None
    assert {i.item for i in missing} == {"imaging_reports", "lab_results"}


def test_waived_records_are_not_asked_for_in_the_reminders(case, coordinator, db):
    records.waive(case, item(case, "imaging_reports").id, "The patient has none", actor=coordinator)
    assert [i.item for i in conversation.missing_items(case)] == ["lab_results"]
    conversation.request_records(case, ["medication_list"], actor=coordinator)
    mail = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == case.id,
                                                         OutboundMail.kind == "records_request")
                              .order_by(OutboundMail.id.desc())).first()
    assert "Imaging reports" not in mail.body_text and "medicines" in mail.body_text


def test_a_patient_without_email_is_asked_by_the_coordinator(factory, coordinator, db):
    inquiry = factory.inquiry(email="", phone="+966501234567", coordinator_id=coordinator.id)
    factory.walk(inquiry, "records", coordinator)
    outstanding, mailed = records.ask_for(inquiry, ["pathology"], actor=coordinator)
    assert not mailed and [i.item for i in outstanding] == ["pathology"]
    assert inquiry.waiting_since is not None and "records_chase" in open_kinds(db, inquiry)
