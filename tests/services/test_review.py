"""The clinical review: the reviewing physician (a user or a physician named by hand) and the
decision, on the timeline, with its consequences for the case."""
import pytest
from sqlalchemy import select

from crm.models import OutboundMail
from crm.models.inquiry import ClinicalReview
from crm.services import conversation, pipeline, review, worklist
from crm.services.errors import StaleVersion, ValidationError


@pytest.fixture
def coordinator(factory):
    return factory.user(name="Nadia Saleh")


@pytest.fixture
def case(factory, coordinator):
    """A case in clinical review."""
    inquiry = factory.inquiry(coordinator_id=coordinator.id, preferred_language="en")
    return factory.walk(inquiry, "clinical_review", coordinator)


def decide(inquiry, decision, actor, **kw):
    return review.record_decision(inquiry, decision, actor=actor, expected_version=inquiry.version, **kw)


def move(inquiry, to, actor, **kw):
    return pipeline.transition_inquiry(inquiry, to, actor=actor, expected_version=inquiry.version, **kw)


def test_without_an_accepting_physician_the_case_does_not_go_on(case, coordinator):
    with pytest.raises(pipeline.ReviewNotAccepted) as refused:
        move(case, "financial_clearance", coordinator)
    assert refused.value.status == 409 and refused.value.code == "review_not_accepted"
    review.name_reviewer(case, actor=coordinator, reviewer_name="Dr. Ana Ruiz, Cardiology")
    with pytest.raises(pipeline.ReviewNotAccepted):
        move(case, "financial_clearance", coordinator)
    assert case.stage == "clinical_review"


def test_an_accepted_case_goes_on_to_financial_clearance(case, coordinator, factory, db):
    physician = factory.user(name="Dr. Omar Haddad", role="manager")
    review.name_reviewer(case, actor=coordinator, reviewer_id=physician.id)
    version = case.version
    accepted = decide(case, "accept", coordinator)
    assert accepted.reviewer == physician and accepted.decided_by == coordinator
    assert case.version == version + 1  # a meaningful change: a form read before is stale
    move(case, "financial_clearance", coordinator)
    assert case.stage == "financial_clearance"
    rounds = db.session.scalars(select(ClinicalReview).where(ClinicalReview.inquiry_id == case.id)).all()
    assert len(rounds) == 1  # named, then decided: one round


def test_a_declined_case_is_offered_for_closing_as_not_accepted(case, coordinator):
    decide(case, "decline", coordinator, reviewer_name="Dr. Ana Ruiz",
           reason="Best treated near home; no added value in travelling.")
    refusal = pipeline.gate_error(case, "financial_clearance")
    assert isinstance(refusal, pipeline.ReviewNotAccepted) and "declined" in refusal.message
    from crm.services.facts import Facts
    assert review.is_declined(Facts(case))
    move(case, "closed", coordinator, outcome="not_accepted", note="Told the patient by phone")
    assert case.outcome == "not_accepted"


def test_more_records_sends_the_case_back_to_records_and_asks_the_patient(case, coordinator, db):
    decide(case, "more_records", coordinator, reviewer_name="Dr. Ana Ruiz",
           reason="Need the pathology slides report", items=["pathology", "imaging_files", "nonsense"])
    assert case.stage == "records"
    assert [i.item for i in conversation.missing_items(case)] == ["imaging_files", "pathology"]
    mail = db.session.scalars(select(OutboundMail).where(OutboundMail.inquiry_id == case.id,
                                                         OutboundMail.kind == "records_request")).one()
    assert "Pathology or biopsy reports" in mail.body_text
    assert "slides" not in mail.body_text  # the physician's words stay internal
    assert case.waiting_since is not None
    with pytest.raises(pipeline.RecordsMissing):
        move(case, "clinical_review", coordinator)
    # the records come; back in review the same physician decides again, on a new round
    for item in conversation.checklist(case):
        conversation.mark_received(case, item.id, actor=coordinator)
    move(case, "clinical_review", coordinator)
    assert "more records" in pipeline.gate_error(case, "financial_clearance").message
    second = decide(case, "accept", coordinator)
    assert second.reviewer_name == "Dr. Ana Ruiz"
    rounds = db.session.scalars(select(ClinicalReview).where(ClinicalReview.inquiry_id == case.id)).all()
    assert len(rounds) == 2


def test_the_review_is_on_the_timeline(case, coordinator):
    review.name_reviewer(case, actor=coordinator, reviewer_name="Dr. Ana Ruiz")
    decide(case, "more_records", coordinator, items=["pathology"], reason="Slides report")
    entries = worklist.timeline(case)
    kinds = [e["kind"] for e in entries]
    assert "review" in kinds and "review_assigned" in kinds
    decided = next(e for e in entries if e["kind"] == "review")
    assert decided["actor"] == coordinator and decided["text"] == "Slides report"
    assert decided["review"].decision == "more_records"
    assert [str(label) for label in decided["items"]] == ["Pathology or biopsy reports"]
    # newest first: the move back to records follows the decision
    assert kinds.index("stage") < kinds.index("review") < kinds.index("review_assigned")


@pytest.mark.parametrize("decision, kw, field", [
    ("decline", {"reviewer_name": "Dr. Ruiz"}, "reason"),
    ("more_records", {"reviewer_name": "Dr. Ruiz", "items": []}, "items"),
    ("more_records", {"reviewer_name": "Dr. Ruiz", "items": ["not_a_record"]}, "items"),
    ("maybe", {"reviewer_name": "Dr. Ruiz"}, "decision"),
    ("accept", {}, "reviewer_id"),
    ("accept", {"reviewer_id": 999999}, "reviewer_id"),
    ("accept", {"reviewer_name": "x" * 201}, "reviewer_name"),
    ("decline", {"reviewer_name": "Dr. Ruiz", "reason": "x" * 4001}, "reason"),
])
def test_a_bad_decision_is_refused_and_nothing_is_saved(case, coordinator, db, decision, kw, field):
    version = case.version
    with pytest.raises(ValidationError) as error:
        decide(case, decision, coordinator, **kw)
    assert field in error.value.fields
    db.session.rollback()
    assert case.version == version and case.stage == "clinical_review"
    assert db.session.scalars(select(ClinicalReview).where(ClinicalReview.inquiry_id == case.id)).all() == []


def test_a_physician_is_a_user_or_a_name_not_both(case, coordinator, factory):
    other = factory.user()
    with pytest.raises(ValidationError) as error:
        review.name_reviewer(case, actor=coordinator, reviewer_id=other.id, reviewer_name="Dr. Ruiz")
    assert "reviewer_name" in error.value.fields
    admin = factory.user(role="admin")  # works on accounts, not cases: no reviewer
    with pytest.raises(ValidationError):
        review.name_reviewer(case, actor=coordinator, reviewer_id=admin.id)


def test_the_decision_waits_for_clinical_review_and_a_fresh_version(factory, coordinator, case):
    early = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "records", coordinator)
    review.name_reviewer(early, actor=coordinator, reviewer_name="Dr. Ruiz")  # named ahead: fine
    with pytest.raises(ValidationError) as error:
        decide(early, "accept", coordinator)
    assert "decision" in error.value.fields
    with pytest.raises(StaleVersion):
        review.record_decision(case, "accept", actor=coordinator, expected_version=case.version - 1,
                               reviewer_name="Dr. Ruiz")
    new = factory.inquiry(coordinator_id=coordinator.id)
    with pytest.raises(ValidationError):
        review.name_reviewer(new, actor=coordinator, reviewer_name="Dr. Ruiz")
