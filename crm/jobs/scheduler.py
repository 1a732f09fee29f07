"""``crm scheduler``: APScheduler in the foreground, one per deployment.

A PostgreSQL advisory lock, held on a dedicated connection, or on SQLite a lease row renewed
while the scheduler lives, makes a second scheduler wait and take over when the first dies.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, g
from sqlalchemy import create_engine, text, update
from sqlalchemy.pool import NullPool

from ..extensions import db
from ..models import SchedulerLease
from ..models.base import utcnow
from ..services import break_glass
from . import mail, sweeps

log = logging.getLogger(__name__)
LOCK_KEY = 0x17E7A  # the advisory lock's id, fixed for the deployment
LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], int]
    minutes: int


#: Every job, how often it runs. Each is idempotent: running it twice does nothing twice.
JOBS = (
    Job("poll_mailbox", mail.poll_mailbox, 2),
    Job("send_records_reminders", sweeps.send_records_reminders, 15),
    Job("send_daily_digests", sweeps.send_daily_digests, 15),
    Job("escalate_overdue_tasks", sweeps.escalate_overdue_tasks, 5),
    Job("detect_stalled_cases", sweeps.detect_stalled_cases, 15),
    Job("deliver_outbox", mail.deliver_outbox, 1),
    Job("remove_orphan_files", sweeps.remove_orphan_files, 360),
    Job("expire_break_glass", break_glass.expire_grants, 5),
)


def run_job(app: Flask, job: Job) -> int | None:
    """Run one job in its own app context: commit once, or roll back and log the reason."""
    with app.app_context():
        g.origin = "scheduler"  # the service account of what the job puts on the audit trail
        try:
            result = job.func()
            db.session.commit()
            log.info("job %s done: %s", job.name, result)
            return result
        except Exception:  # noqa: BLE001 - a failing job is retried at its next run
            db.session.rollback()
            log.exception("job %s failed; it runs again at its next turn", job.name)
            return None


def run_all_once(app: Flask) -> dict[str, int | None]:
    """``crm scheduler --once``: every job, once."""
    return {job.name: run_job(app, job) for job in JOBS}


class SingletonLock:
    """One scheduler per database: an advisory lock (PostgreSQL) or a lease (SQLite)."""

    def __init__(self, app: Flask, *, lease: timedelta = LEASE):
        self.app, self.lease = app, lease
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._connection = None
        self._engine = None

    def acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it."""
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                if self._connection is None:
                    self._engine = create_engine(db.engine.url, poolclass=NullPool)
                    self._connection = self._engine.connect()
                held = self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                                {"key": LOCK_KEY}).scalar()
                self._connection.commit()
                return bool(held)
            return self._take_lease()

    def _take_lease(self) -> bool:
        now = utcnow()
        lease = db.session.get(SchedulerLease, "scheduler")
        if lease is None:
            db.session.add(SchedulerLease(name="scheduler", holder=self.holder,
                                          expires_at=now + self.lease))
        elif lease.holder == self.holder or lease.expires_at < now:
            lease.holder, lease.expires_at = self.holder, now + self.lease
        else:
            db.session.rollback()
            return False
        db.session.commit()
        return True

    def renew(self) -> bool:
        """Keep the lease alive (SQLite); an advisory lock lives as long as its connection."""
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                return True
            result = db.session.execute(
                update(SchedulerLease).where(SchedulerLease.name == "scheduler",
                                             SchedulerLease.holder == self.holder)
                .values(expires_at=utcnow() + self.lease))
            db.session.commit()
            return bool(result.rowcount)

    def release(self) -> None:
        with self.app.app_context():
            if self._connection is not None:
                self._connection.close()
                self._engine.dispose()
                self._connection = self._engine = None
                return
            db.session.execute(SchedulerLease.__table__.delete().where(
                SchedulerLease.name == "scheduler", SchedulerLease.holder == self.holder))
            db.session.commit()

    def wait(self, stop: threading.Event, poll: float = 5.0) -> bool:
        """Block until the lock is ours (True) or ``stop`` is set (False)."""
        announced = False
        while not stop.is_set():
            if self.acquire():
                return True
            if not announced:
                log.warning("another scheduler is running against this database: waiting")
                announced = True
            stop.wait(poll)
        return False


def run_forever(app: Flask, stop: threading.Event | None = None, *, poll: float = 5.0) -> None:
    """Wait for the lock, then run the jobs on their intervals until ``stop`` is set."""
    from apscheduler.schedulers.background import BackgroundScheduler
    stop = stop or threading.Event()
    lock = SingletonLock(app)
    if not lock.wait(stop, poll):
        return
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job in JOBS:
        scheduler.add_job(run_job, "interval", minutes=job.minutes, args=(app, job), id=job.name,
                          name=job.name, next_run_time=utcnow())
    scheduler.start()
    log.info("scheduler started with %d jobs", len(JOBS))
    try:
        while not stop.wait(min(poll, lock.lease.total_seconds() / 3)):
            if not lock.renew():
                log.error("lost the scheduler lease: stopping")
                break
    finally:
        scheduler.shutdown(wait=True)
        lock.release()
        log.info("scheduler stopped")
