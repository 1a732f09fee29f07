"""The scheduler: idempotent jobs, one scheduler per database, take-over when one dies."""
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from crm.jobs import sweeps
from crm.jobs.scheduler import SingletonLock, run_all_once, run_forever
from crm.models import Task
from crm.models.base import utcnow


def test_stalled_cases_get_one_task_however_often_the_sweep_runs(factory, db):
    coordinator = factory.user()
    quiet = factory.inquiry(coordinator_id=coordinator.id)
    busy = factory.inquiry(coordinator_id=coordinator.id)
    quiet.updated_at = utcnow() - timedelta(days=8)
    db.session.flush()
    assert sweeps.detect_stalled_cases() == 1
    assert sweeps.detect_stalled_cases() == 0
    stalled = db.session.scalars(select(Task).where(Task.kind == "stalled_case")).all()
    assert [(t.inquiry_id, t.assignee_id) for t in stalled] == [(quiet.id, coordinator.id)]
    assert busy.id not in [t.inquiry_id for t in stalled]


def test_overdue_tasks_are_escalated_once(factory, db):
    inquiry = factory.inquiry()
    task = db.session.scalar(select(Task).where(Task.inquiry_id == inquiry.id))
    task.due_at = utcnow() - timedelta(hours=5)
    db.session.flush()
    assert sweeps.escalate_overdue_tasks() == 1
    assert sweeps.escalate_overdue_tasks() == 0
    db.session.refresh(task)
    assert task.escalated_at is not None


def test_scheduler_once_from_the_command_line(fresh_app):
    app = fresh_app()
    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "detect_stalled_cases: 0" in result.output and "escalate_overdue_tasks: 0" in result.output


def test_a_second_scheduler_waits_and_takes_over_when_the_first_stops(fresh_app):
    app = fresh_app()
    first, second = SingletonLock(app), SingletonLock(app)
    assert first.acquire() is True
    assert second.acquire() is False
    first.release()
    assert second.acquire() is True
    second.release()


def test_a_dead_schedulers_lock_is_taken_over(fresh_app):
    app = fresh_app()
    dead = SingletonLock(app, lease=timedelta(seconds=1))
    assert dead.acquire()
    # the process dies: no release, no renewal (its connection, if any, goes away)
    if dead._connection is not None:
        dead._connection.invalidate()
        dead._engine.dispose()
    survivor = SingletonLock(app)
    deadline = time.monotonic() + 10
    while not survivor.acquire():
        assert time.monotonic() < deadline, "the lock was never taken over"
        time.sleep(0.2)
    survivor.release()


def test_two_schedulers_started_at_once_run_the_jobs_in_one(fresh_app, monkeypatch):
    from crm.jobs import scheduler
    app = fresh_app()
    calls = []
    monkeypatch.setattr(scheduler, "JOBS", (scheduler.Job("count", lambda: calls.append(1) or 1, 60),))
    stops = [threading.Event(), threading.Event()]
    threads = [threading.Thread(target=run_forever, args=(app, stop), kwargs={"poll": 0.2})
               for stop in stops]
    threads[0].start()
    time.sleep(0.5)
    threads[1].start()
    time.sleep(1.5)
    assert len(calls) == 1  # the job ran in the first scheduler only; the second waits
    stops[0].set()  # the first stops: the second takes over and runs the job
    threads[0].join(timeout=10)
    deadline = time.monotonic() + 10
    while len(calls) < 2:
        assert time.monotonic() < deadline, "the waiting scheduler never took over"
        time.sleep(0.1)
    stops[1].set()
    threads[1].join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert len(calls) == 2


def test_run_all_once_reports_each_job(fresh_app):
    app = fresh_app()
    results = run_all_once(app)
    assert set(results) == {"poll_mailbox", "send_records_reminders", "send_daily_digests",
                            "escalate_overdue_tasks", "detect_stalled_cases", "deliver_outbox",
                            "remove_orphan_files", "expire_break_glass"}
    assert None not in results.values()  # none failed
