"""The pipeline's state machine: allowed moves, outcomes, reopening, optimistic locking."""
import pytest

from crm.services import pipeline
from crm.services.errors import Forbidden, StaleVersion, TransitionNotAllowed, ValidationError


def move(inquiry, to, actor, **kw):
    return pipeline.transition_inquiry(inquiry, to, actor=actor, expected_version=inquiry.version, **kw)


def test_in_person_case_walks_every_stage_to_closed(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    for stage in pipeline.OPEN_STAGES[1:]:
        assert stage in pipeline.allowed_moves(inquiry, coordinator)
        if inquiry.stage == "clinical_review":
            factory.accept(inquiry, coordinator)
        if inquiry.stage == "financial_clearance":
            factory.clear_finance(inquiry, coordinator)
        move(inquiry, stage, coordinator)
    move(inquiry, "closed", coordinator, outcome="completed", note="Back home, doing well")
    assert inquiry.stage == "closed" and inquiry.outcome == "completed"
    assert inquiry.closed_at is not None
    assert [c.to_stage for c in inquiry.stage_changes] == list(pipeline.STAGES)
    assert inquiry.stage_changes[-1].actor == coordinator
    assert inquiry.stage_changes[-1].note == "Back home, doing well"


def test_online_second_opinion_skips_scheduling_and_travel(factory):
    coordinator = factory.user()
    inquiry = factory.inquiry(service="second_opinion_online")
    factory.walk(inquiry, "financial_clearance", coordinator)
    assert pipeline.allowed_moves(inquiry, coordinator) == ["in_care", "clinical_review", "closed"]
    with pytest.raises(TransitionNotAllowed):
        move(inquiry, "scheduling", coordinator)
    factory.clear_finance(inquiry, coordinator)
    move(inquiry, "in_care", coordinator)
    assert inquiry.stage == "in_care"


def test_cannot_jump_stages(factory):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(TransitionNotAllowed):
        move(inquiry, "clinical_review", coordinator)
    assert inquiry.stage == "new"


def test_closing_requires_a_known_outcome(factory):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as missing:
        move(inquiry, "closed", coordinator)
    assert "outcome" in missing.value.fields
    with pytest.raises(ValidationError):
        move(inquiry, "closed", coordinator, outcome="cured")
    with pytest.raises(ValidationError) as stray:
        move(inquiry, "intake", coordinator, outcome="completed")
    assert "outcome" in stray.value.fields
    assert inquiry.stage == "new"


def test_any_open_stage_may_close(factory):
    coordinator = factory.user()
    for stage_count in (0, 3):
        inquiry = factory.inquiry()
        for stage in pipeline.OPEN_STAGES[1:1 + stage_count]:
            move(inquiry, stage, coordinator)
        move(inquiry, "closed", coordinator, outcome="no_response")
        assert inquiry.stage == "closed"


def test_only_a_manager_reopens_to_where_it_was_closed(factory):
    coordinator, manager = factory.user(), factory.user(role="manager")
    inquiry = factory.inquiry()
    move(inquiry, "intake", coordinator)
    move(inquiry, "records", coordinator)
    move(inquiry, "closed", coordinator, outcome="no_response")
    assert pipeline.allowed_moves(inquiry, coordinator) == []
    with pytest.raises(Forbidden):
        move(inquiry, "records", coordinator)
    assert pipeline.allowed_moves(inquiry, manager) == ["records"]
    move(inquiry, "records", manager, note="Patient wrote back")
    assert inquiry.stage == "records" and inquiry.outcome is None and inquiry.closed_at is None


def test_stale_version_is_refused_and_nothing_changes(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry()
    read_at = inquiry.version
    move(inquiry, "intake", coordinator)
    db.session.commit()
    with pytest.raises(StaleVersion):
        pipeline.transition_inquiry(inquiry, "records", actor=coordinator, expected_version=read_at)
    assert inquiry.stage == "intake"
    assert len(inquiry.stage_changes) == 2


def test_admin_cannot_move_cases(factory):
    admin = factory.user(role="admin")
    inquiry = factory.inquiry()
    assert pipeline.allowed_moves(inquiry, admin) == []
    with pytest.raises(TransitionNotAllowed):
        move(inquiry, "intake", admin)
