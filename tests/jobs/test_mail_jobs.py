"""The scheduler's mail: reminders to patients, digests to coordinators, escalations to
managers, each once; clocks that wait on the patient."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from crm.jobs import sweeps
from crm.models import OutboundMail, Task
from crm.models.base import utcnow
from crm.services import conversation, followups, pipeline

BOSTON = ZoneInfo("America/New_York")


def to_records(inquiry, actor):
    for stage in ("intake", "records"):
        pipeline.transition_inquiry(inquiry, stage, actor=actor, expected_version=inquiry.version)


def mails(db, kind):
    return db.session.scalars(sa.select(OutboundMail).where(OutboundMail.kind == kind)
                              .order_by(OutboundMail.id)).all()


def open_task(db, inquiry, kind):
    return db.session.scalars(sa.select(Task).where(Task.inquiry_id == inquiry.id, Task.kind == kind,
                                                    Task.state == "open")).first()


def test_records_are_chased_three_times_then_a_coordinator_calls(db, factory):
    coordinator = factory.user()
    inquiry = factory.inquiry(preferred_language="ru", coordinator_id=coordinator.id)
    to_records(inquiry, coordinator)
    conversation.request_records(inquiry, ["lab_results", "imaging_reports"], actor=coordinator)
    db.session.commit()
    now = utcnow()
    for n in range(1, 4):
        now += timedelta(days=7)
        assert sweeps.send_records_reminders(now) == 1
        assert sweeps.send_records_reminders(now) == 0  # running twice sends nothing twice
        assert len(mails(db, "reminder")) == n
    reminder = mails(db, "reminder")[0]
    assert reminder.language == "ru" and reminder.to_addr.endswith(inquiry.patient.email + ">")
    assert open_task(db, inquiry, "call_patient") is not None
    assert open_task(db, inquiry, "records_chase") is None
    assert sweeps.send_records_reminders(now + timedelta(days=30)) == 0


def test_no_reminder_once_everything_has_arrived(db, factory):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    to_records(inquiry, coordinator)
    [item] = conversation.request_records(inquiry, ["pathology"], actor=coordinator)
    conversation.mark_received(inquiry, item.id, actor=coordinator)
    db.session.commit()
    assert sweeps.send_records_reminders(utcnow() + timedelta(days=10)) == 0
    assert open_task(db, inquiry, "review_records") is not None


def test_a_clock_waiting_on_the_patient_pauses_until_they_answer(db, factory):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    task = open_task(db, inquiry, "first_response")
    conversation.request_records  # noqa: B018 - the pause is the service's, tested directly here
    start = datetime(2026, 11, 16, 9, 0, tzinfo=BOSTON)  # a Monday morning
    task.due_at = start + timedelta(hours=3)  # three business hours left
    followups.wait_on_patient(inquiry, at=start)
    assert task.paused_at == start and inquiry.waiting_since == start
    assert followups.due_counts(coordinator, now=start + timedelta(days=3)) == {"overdue": 0, "today": 0}
    assert sweeps.escalate_overdue_tasks(start + timedelta(days=3)) == 0
    answered = datetime(2026, 11, 20, 16, 0, tzinfo=BOSTON)  # Friday 16:00, an hour before closing
    followups.patient_answered(inquiry, at=answered)
    assert task.paused_at is None and inquiry.waiting_since is None
    assert task.due_at == datetime(2026, 11, 23, 10, 0, tzinfo=BOSTON)  # 1 h Friday + 2 h Monday


def test_each_coordinator_gets_one_digest_a_business_day(db, factory):
    coordinator = factory.user(name="Dana")
    idle = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    monday_early = datetime(2026, 11, 23, 7, 0, tzinfo=BOSTON)
    task = open_task(db, inquiry, "first_response")
    task.due_at = monday_early + timedelta(hours=5)
    assert sweeps.send_daily_digests(monday_early) == 0  # before 07:30
    assert sweeps.send_daily_digests(monday_early + timedelta(minutes=45)) == 1
    assert sweeps.send_daily_digests(monday_early + timedelta(hours=3)) == 0  # once a day
    [digest] = mails(db, "digest")
    assert inquiry.reference in digest.body_text and "Dana" in digest.body_text
    assert inquiry.patient.family_name not in digest.body_text  # no patient details in mail to staff
    assert idle.email not in digest.to_addr
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=BOSTON)
    assert sweeps.send_daily_digests(saturday) == 0


def test_overdue_work_is_mailed_to_managers_once(db, factory):
    manager = factory.user(role="manager", name="Maya")
    inquiry = factory.inquiry()
    open_task(db, inquiry, "first_response").due_at = utcnow() - timedelta(hours=6)
    assert sweeps.escalate_overdue_tasks() == 1
    assert sweeps.escalate_overdue_tasks() == 0
    [mail] = mails(db, "escalation")
    assert manager.email in mail.to_addr and inquiry.reference in mail.body_text


def test_friday_evening_spanish_request_end_to_end(db, factory, client):
    """A Spanish web request about arritmia on Friday evening: routed to cardiology, to the
    Spanish-speaking coordinator, acknowledged in Spanish, due Monday morning; the clock then
    sends the reminders and escalations once each."""
    factory.user(centers=("cardiology",), languages=("en",), name="Ellen")
    carmen = factory.user(centers=("cardiology",), languages=("es",), name="Carmen")
    factory.user(role="manager", name="Maya")
    friday = datetime(2026, 11, 20, 18, 30, tzinfo=BOSTON)
    inquiry = factory.inquiry(given_name="Lucía", preferred_language="es", reason="Tengo arritmia",
                              center=None, timezone="Europe/Madrid")
    inquiry.created_at = friday
    first = open_task(db, inquiry, "first_response")
    first.created_at, first.due_at = friday, followups.RULES_BY_KIND["first_response"].due(followups.calendar(), friday)
    assert inquiry.center.key == "cardiology" and inquiry.coordinator_id == carmen.id
    assert first.due_at == datetime(2026, 11, 23, 8, 0, tzinfo=BOSTON)  # the next business morning
    [ack] = mails(db, "acknowledgement")
    assert ack.language == "es"
    monday_noon = datetime(2026, 11, 23, 12, 30, tzinfo=BOSTON)
    for _ in range(2):
        sweeps.escalate_overdue_tasks(monday_noon)
        sweeps.send_daily_digests(monday_noon)
    assert len(mails(db, "escalation")) == 1 and len(mails(db, "digest")) == 1


def test_records_asked_again_after_all_arrived_are_chased_again(db, factory):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    to_records(inquiry, coordinator)
    [item] = conversation.request_records(inquiry, ["lab_results"], actor=coordinator)
    conversation.mark_received(inquiry, item.id, actor=coordinator)
    assert open_task(db, inquiry, "records_chase") is None
    conversation.request_records(inquiry, ["lab_results"], actor=coordinator)  # unreadable: again
    assert open_task(db, inquiry, "records_chase") is not None
    assert sweeps.send_records_reminders(utcnow() + timedelta(days=7)) == 1
