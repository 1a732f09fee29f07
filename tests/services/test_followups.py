"""Follow-up tasks: opened by the rules, due in business time, closed by the matching action."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from crm.models import Task
from crm.services import followups, pipeline
from crm.services.business_hours import BusinessCalendar
from crm.services.intake import update_inquiry


def tasks_of(db, inquiry):
    return db.session.scalars(select(Task).where(Task.inquiry_id == inquiry.id).order_by(Task.id)).all()


def move(inquiry, to, actor, **kw):
    return pipeline.transition_inquiry(inquiry, to, actor=actor, expected_version=inquiry.version, **kw)


def test_a_new_inquiry_gets_a_first_response_task_due_in_one_business_day(app, factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    (task,) = tasks_of(db, inquiry)
    assert task.kind == "first_response" and task.state == "open" and task.assignee_id == coordinator.id
    calendar = BusinessCalendar.from_config(app.config)
    assert task.due_at == calendar.next_business_morning(inquiry.created_at)


def test_friday_evening_request_is_due_the_next_business_morning(factory, db):
    inquiry = factory.inquiry()
    friday_evening = datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc)  # 18:30 in Boston
    (task,) = followups.on_stage_change(inquiry, None, "new", actor=None, at=friday_evening)
    assert task.due_at == datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # Monday 08:00 EST


def test_leaving_the_stage_completes_its_task_and_closing_cancels(factory, db):
    coordinator = factory.user()
    answered = factory.inquiry()
    move(answered, "intake", coordinator)
    (task,) = tasks_of(db, answered)
    assert task.state == "done" and task.completed_by_id == coordinator.id
    dropped = factory.inquiry()
    move(dropped, "closed", coordinator, outcome="duplicate")
    assert [t.state for t in tasks_of(db, dropped)] == ["cancelled"]


def test_records_are_chased_and_care_is_followed_up(factory, db, app):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    calendar = BusinessCalendar.from_config(app.config)
    move(inquiry, "intake", coordinator)
    move(inquiry, "records", coordinator)
    chase = tasks_of(db, inquiry)[-1]
    assert chase.kind == "records_chase" and chase.due_at == calendar.add_business_days(chase.created_at, 3)
    factory.walk(inquiry, "follow_up", coordinator)
    checkin = tasks_of(db, inquiry)[-1]
    assert chase.state == "done"
    assert checkin.kind == "post_visit_checkin" and checkin.due_at - checkin.created_at == timedelta(days=14)


def test_open_tasks_follow_the_case_to_its_new_coordinator(factory, db):
    first, second = factory.user(), factory.user()
    inquiry = factory.inquiry(coordinator_id=first.id)
    update_inquiry(inquiry, {"coordinator_id": second.id}, actor=first, expected_version=inquiry.version)
    assert [t.assignee_id for t in tasks_of(db, inquiry)] == [second.id]


def test_completing_twice_changes_nothing(factory, db):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    (task,) = tasks_of(db, inquiry)
    assert followups.complete_task(task, actor=coordinator) is True
    done_at = task.completed_at
    assert followups.complete_task(task, actor=coordinator) is False
    assert task.completed_at == done_at


def test_my_tasks_buckets_and_counts(factory, db):
    coordinator = factory.user()
    late, today, later = (factory.inquiry(coordinator_id=coordinator.id) for _ in range(3))
    now = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in Boston
    dues = {late.id: now - timedelta(hours=3), today.id: now + timedelta(hours=5),
            later.id: now + timedelta(days=3)}
    for task in db.session.scalars(select(Task).where(Task.inquiry_id.in_(dues))):
        task.due_at = dues[task.inquiry_id]
    db.session.flush()
    buckets = followups.my_tasks(coordinator, now=now)
    assert [t.inquiry_id for t in buckets["overdue"]] == [late.id]
    assert [t.inquiry_id for t in buckets["today"]] == [today.id]
    assert [t.inquiry_id for t in buckets["upcoming"]] == [later.id]
    assert followups.due_counts(coordinator, now=now) == {"overdue": 1, "today": 1}


def test_records_are_chased_three_times_then_a_call(factory, db, app):
    coordinator = factory.user()
    inquiry = factory.inquiry(coordinator_id=coordinator.id)
    move(inquiry, "intake", coordinator)
    move(inquiry, "records", coordinator)
    calendar = BusinessCalendar.from_config(app.config)
    kinds = []
    for _ in range(4):
        (task,) = [t for t in tasks_of(db, inquiry) if t.state == "open"]
        kinds.append(task.kind)
        if task.kind == "records_chase":
            assert task.due_at == calendar.add_business_days(task.created_at, 3)
        followups.complete_task(task, actor=coordinator)
    assert kinds == ["records_chase"] * 3 + ["call_patient"]
    # records in: the case moves on and nothing is chased any more
    move(inquiry, "clinical_review", coordinator)
    assert [t for t in tasks_of(db, inquiry) if t.state == "open"] == []
