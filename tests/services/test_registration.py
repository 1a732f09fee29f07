"""Registration: the medical record number, its format (configurable) and uniqueness, and the
task that reminds until it is entered."""
import pytest
from sqlalchemy import select

from crm.models import AuditEvent, Task
from crm.services import intake, pipeline, registration
from crm.services.errors import StaleVersion, ValidationError


@pytest.fixture
def coordinator(factory):
    return factory.user()


def register(inquiry, mrn, actor):
    return registration.register_mrn(inquiry, mrn, actor=actor, expected_version=inquiry.patient.version)


def mrn_tasks(db, inquiry):
    return db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id, Task.kind == "register_mrn")
                              .order_by(Task.id)).all()


def test_a_task_reminds_from_financial_clearance_until_the_number_is_entered(factory, coordinator, db, app):
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    factory.walk(inquiry, "clinical_review", coordinator)
    assert mrn_tasks(db, inquiry) == []
    factory.walk(inquiry, "financial_clearance", coordinator)
    task, = mrn_tasks(db, inquiry)
    assert task.state == "open" and task.assignee_id == coordinator.id
    from crm.services.followups import calendar
    assert task.due_at == calendar().add_business_days(task.created_at, 2)
    factory.walk(inquiry, "scheduling", coordinator)  # not a stage's task: it stays open
    assert task.state == "open"
    assert register(inquiry, " 12345678 ", coordinator) is True
    assert inquiry.patient.mrn == "12345678" and task.state == "done"
    assert task.completed_by_id == coordinator.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.patient_id == inquiry.patient_id,
                                                        AuditEvent.detail.like("fields=mrn%"))).one()
    assert "12345678" not in event.detail
    # moving back and forth does not open it again
    pipeline.transition_inquiry(inquiry, "financial_clearance", actor=coordinator,
                                expected_version=inquiry.version)
    assert len(mrn_tasks(db, inquiry)) == 1


def test_no_task_when_the_patient_is_registered_already_and_closing_cancels_it(factory, coordinator, db):
    registered = factory.inquiry(coordinator_id=coordinator.id, mrn="7654321")
    factory.walk(registered, "financial_clearance", coordinator)
    assert mrn_tasks(db, registered) == []
    other = factory.walk(factory.inquiry(coordinator_id=coordinator.id), "financial_clearance", coordinator)
    pipeline.transition_inquiry(other, "closed", actor=coordinator, expected_version=other.version,
                                outcome="declined_by_patient")
    assert [t.state for t in mrn_tasks(db, other)] == ["cancelled"]


@pytest.mark.parametrize("bad", ["123456", "12345678901", "MRN1234567", "12 34 567", "１２３４５６７",
                                 ""])
def test_the_number_must_have_the_hospitals_format(factory, coordinator, db, bad):
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as error:
        register(inquiry, bad, coordinator)
    assert "mrn" in error.value.fields
    db.session.rollback()
    assert inquiry.patient.mrn is None


def test_the_format_is_configurable(factory, coordinator, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MRN_PATTERN", r"[A-Z]{2}-[0-9]{6}")
    monkeypatch.setitem(app.config, "MRN_EXAMPLE", "BW-123456")
    inquiry = factory.inquiry()
    with pytest.raises(ValidationError) as error:
        register(inquiry, "1234567", coordinator)
    assert "BW-123456" in str(error.value.fields["mrn"])
    assert register(inquiry, "BW-654321", coordinator) is True


def test_a_bad_setting_is_refused_at_start_up():
    from config import ConfigError
    from crm.config_check import check_mrn_pattern
    with pytest.raises(ConfigError, match="CRM_MRN_PATTERN"):
        check_mrn_pattern("[0-9{7", "1234567")
    with pytest.raises(ConfigError, match="CRM_MRN_EXAMPLE"):
        check_mrn_pattern("[0-9]{7}", "12")
    check_mrn_pattern("[0-9]{7,10}", "1234567")


def test_a_number_on_another_patient_is_named_only_to_who_may_see_them(factory, db):
    cardiology = factory.user(centers=("cardiology",))
    neurology = factory.user(centers=("neurology",))
    first = factory.inquiry(given_name="Amal", family_name="Farouk", center="cardiology")
    register(first, "5550001", cardiology)
    second = factory.inquiry(center="neurology")
    with pytest.raises(ValidationError) as seen:
        register(second, "5550001", factory.user(role="manager"))
    assert "Amal Farouk" in str(seen.value.fields["mrn"])
    with pytest.raises(ValidationError) as unseen:
        register(second, "5550001", neurology)
    message = str(unseen.value.fields["mrn"])
    assert "another patient" in message and "Amal" not in message and "Farouk" not in message
    db.session.rollback()
    assert second.patient.mrn is None


def test_the_same_number_again_changes_nothing_and_a_stale_form_is_refused(factory, coordinator, db):
    inquiry = factory.inquiry()
    register(inquiry, "1234567", coordinator)
    assert register(inquiry, "1234567", coordinator) is False
    with pytest.raises(StaleVersion):
        registration.register_mrn(inquiry, "7654321", actor=coordinator,
                                  expected_version=inquiry.patient.version - 1)


def test_the_patient_form_and_the_api_follow_the_same_rules(factory, coordinator, db):
    with pytest.raises(ValidationError) as error:
        intake.create_inquiry(factory.inquiry_data(mrn="MRN-12"), source="phone", actor=coordinator)
    assert "mrn" in error.value.fields
    db.session.rollback()
    inquiry = factory.inquiry(mrn="9876543")
    other = factory.inquiry()
    with pytest.raises(ValidationError) as error:
        intake.update_patient(other.patient, {"mrn": "9876543"}, actor=coordinator, expected_version=1)
    assert "mrn" in error.value.fields
    # a number written before the rule (demo, import) is kept as it is when other fields change
    other.patient.mrn = "OLD-42"
    db.session.commit()
    changed = intake.update_patient(other.patient, {"mrn": "OLD-42", "phone": "+1 617 555 0100"},
                                    actor=coordinator, expected_version=other.patient.version)
    assert changed == ["phone"]
    assert inquiry.patient.mrn == "9876543"
