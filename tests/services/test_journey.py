"""The journey strip computed in one place: each step's state as the case moves, the reason
a step blocks (the same words as the refusal of the move), the online path's skipped steps,
the patient's plain words, and a fixed number of queries."""
import pytest
from sqlalchemy import event

from crm.services import conversation, journey, pipeline, records, registration, review
from crm.services.facts import Facts

STAFF_WORDS = ("Blocked", "blocked", "clinical_review", "Clinical review", "records_missing", "gate",
               "MRN", "stage", "Registration")


@pytest.fixture
def coordinator(factory):
    return factory.user()


#: The steps of this part of the journey (the later ones are tested with their own services).
KEYS = ("trial", "records", "review", "registration")


def steps_of(inquiry):
    return {step.key: step for step in journey.journey(inquiry) if step.key in KEYS}


def states(inquiry):
    return {key: step.state for key, step in steps_of(inquiry).items()}


def move(inquiry, to, actor):
    pipeline.transition_inquiry(inquiry, to, actor=actor, expected_version=inquiry.version)


def test_each_step_is_done_in_progress_blocked_or_to_come_as_the_case_moves(factory, coordinator, db):
    inquiry = factory.inquiry(coordinator_id=coordinator.id, preferred_language="en")
    assert states(inquiry) == {"records": "todo", "review": "todo", "registration": "todo"}
    assert [s.key for s in journey.journey(inquiry) if s.key in KEYS] == ["records", "review", "registration"]

    factory.walk(inquiry, "records", coordinator)
    assert states(inquiry)["records"] == "current"  # nothing asked yet: nothing holds the case
    conversation.request_records(inquiry, ["imaging_reports", "pathology"], actor=coordinator)
    step = steps_of(inquiry)["records"]
    assert step.state == "blocked" and step.needs_patient
    refusal = pipeline.gate_error(inquiry, "clinical_review")
    assert step.reason == pipeline.reason_of(refusal)  # the strip says what the refusal says
    missing = "Imaging reports (CT, MRI, ultrasound, X-ray) and Pathology or biopsy reports"
    assert step.reason == f"Still missing: {missing}." and missing in refusal.message
    assert str(step.summary) == "0 of 2 records received."

    items = conversation.checklist(inquiry)
    conversation.mark_received(inquiry, items[0].id, actor=coordinator)
    records.waive(inquiry, items[1].id, "No biopsy was done", actor=coordinator)
    step = steps_of(inquiry)["records"]
    assert step.state == "done" and step.reason is None and not step.needs_patient
    assert str(step.summary) == "1 of 2 records received, 1 waived."

    move(inquiry, "clinical_review", coordinator)
    step = steps_of(inquiry)["review"]
    refusal = pipeline.gate_error(inquiry, "financial_clearance")
    assert step.state == "blocked" and step.reason == refusal.message
    review.name_reviewer(inquiry, actor=coordinator, reviewer_name="Dr. Ana Ruiz")
    assert "Dr. Ana Ruiz" in str(steps_of(inquiry)["review"].summary)
    review.record_decision(inquiry, "accept", actor=coordinator, expected_version=inquiry.version)
    assert states(inquiry) == {"records": "done", "review": "done", "registration": "todo"}

    move(inquiry, "financial_clearance", coordinator)
    assert states(inquiry)["registration"] == "current"
    registration.register_mrn(inquiry, "1234567", actor=coordinator, expected_version=inquiry.patient.version)
    step = steps_of(inquiry)["registration"]
    assert step.state == "done" and "1234567" in str(step.summary)
    assert "1234567" not in str(step.patient_text)  # a forwarded portal link does not carry it


def test_a_step_of_a_stage_the_online_path_skips_is_skipped(factory, coordinator, monkeypatch):
    """A step added the way the module's notes say (a stand-in for a later step of scheduling)."""
    def example_step(ctx):
        state, _reason = ctx.state("scheduling", done=False)
        return journey.Step("example", "Example", "scheduling", state,
                            patient_text="We are booking your appointments.")

    monkeypatch.setattr(journey, "STEPS", [*journey.STEPS, example_step])
    in_person = factory.inquiry()
    online = factory.inquiry(service="second_opinion_online")
    every = {step.key: step for step in journey.journey(in_person)}
    assert every["example"].state == "todo"
    assert {step.key: step for step in journey.journey(online)}["example"].state == "skipped"
    assert "example" not in [s.key for s in journey.patient_journey(online)]
    order = [s.key for s in journey.journey(in_person)]
    assert order.index("registration") < order.index("example")  # by stage


def test_a_closed_case_keeps_what_was_done_and_skips_the_rest(factory, coordinator, db):
    inquiry = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "records", coordinator)
    conversation.request_records(inquiry, ["lab_results"], actor=coordinator)
    pipeline.transition_inquiry(inquiry, "closed", actor=coordinator, expected_version=inquiry.version,
                                outcome="no_response")
    assert states(inquiry) == {"records": "skipped", "review": "skipped", "registration": "skipped"}
    assert [s for s in journey.patient_journey(inquiry) if s.key in KEYS] == []

    done = factory.inquiry(coordinator_id=coordinator.id, mrn="7654321")
    factory.walk(done, "follow_up", coordinator)
    pipeline.transition_inquiry(done, "closed", actor=coordinator, expected_version=done.version,
                                outcome="completed")
    assert states(done) == {"records": "done", "review": "done", "registration": "done"}


def test_a_trial_step_for_those_who_ask_for_a_trial(factory, coordinator):
    from crm.services import trials
    inquiry = factory.inquiry(service="clinical_trial")
    assert "trial" in states(inquiry) and states(inquiry)["trial"] == "todo"
    factory.walk(inquiry, "intake", coordinator)
    assert states(inquiry)["trial"] == "current"
    trials.record_trial(inquiry, actor=coordinator, expected_version=inquiry.version, interested=True,
                        name="KEYNOTE-177", registry_id="NCT02563002")
    step = steps_of(inquiry)["trial"]
    assert step.state == "done" and str(step.summary) == "KEYNOTE-177 (NCT02563002)"
    assert "trial" not in states(factory.inquiry(service="treatment"))


def test_the_patient_reads_plain_words(factory, coordinator):
    inquiry = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "records", coordinator)
    conversation.request_records(inquiry, ["imaging_reports", "pathology"], actor=coordinator)
    steps = journey.patient_journey(inquiry)
    texts = [str(step.patient_text) for step in steps if step.key in KEYS]
    assert texts[0] == "We are waiting for 2 documents from you. You can send them below."
    assert steps[0].needs_patient
    for text in texts:
        assert not any(word in text for word in STAFF_WORDS), text


def test_the_strip_costs_a_fixed_number_of_queries(factory, coordinator, db):
    def count(inquiry):
        facts = Facts(inquiry, checklist=conversation.checklist(inquiry))
        seen = []
        listener = lambda *args, **kw: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            journey.journey(inquiry, facts)
            pipeline.blocked_moves(inquiry, pipeline.allowed_moves(inquiry, coordinator), facts)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    warm = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "records", coordinator)
    small = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "records", coordinator)
    conversation.request_records(small, ["pathology"], actor=coordinator)
    big = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "records", coordinator)
    conversation.request_records(big, ["pathology", "lab_results", "imaging_reports", "imaging_files",
                                       "medication_list", "operative_notes"], actor=coordinator)
    db.session.commit()
    db.session.expire_all()
    count(warm)  # the staff user's row, loaded once per request anyway
    assert count(small) == count(big)  # however many records: one query per kind of fact
