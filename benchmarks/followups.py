"""Measure routing and the scheduler's sweeps at scale: 100,000 inquiries and 1,000,000 tasks.

Usage: python benchmarks/followups.py [--database URL] [--tasks N] [--routes R]
Prints: the median time to route a new inquiry (suggestion + coordinator + decision), the time
to create one end to end, and the time of one sweep (stalled cases, escalation, records reminders, digests), run twice
(the second run finds nothing new to do). Targets (issue 4): routing < 20 ms, a sweep < 1 s.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database")
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--routes", type=int, default=50)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    env = {"CRM_DATABASE_URL": url, "PATH": str(ROOT / ".venv/bin") + ":/usr/bin:/bin"}
    crm = str(ROOT / ".venv/bin/crm")
    subprocess.run([crm, "db", "upgrade"], env=env, check=True, capture_output=True)

    from crm import create_app
    from crm.extensions import db
    from crm.jobs import sweeps
    from crm.models import Inquiry, Task
    from crm.models.base import utcnow
    from crm.services import routing
    from crm.services.intake import create_inquiry
    app = create_app("development", DATABASE_URL=url)
    with app.app_context():
        have = db.session.scalar(select(func.count(Inquiry.id)))
    if have < args.inquiries:
        subprocess.run([crm, "demo", "--inquiries", str(args.inquiries - have)], env=env, check=True,
                       capture_output=True)
    with app.app_context():
        rng = random.Random(1)
        ids = list(db.session.scalars(select(Inquiry.id)))
        have_tasks = db.session.scalar(select(func.count(Task.id)))
        now = utcnow()
        batch = []
        for n in range(max(0, args.tasks - have_tasks)):
            done = rng.random() < 0.9
            due = now + timedelta(hours=rng.uniform(-24 * 60, 24 * 20))
            batch.append({"inquiry_id": rng.choice(ids), "kind": rng.choice(
                ["first_response", "records_chase", "post_visit_checkin"]), "state": "done" if done else "open",
                "assignee_id": None, "due_at": due, "note": "", "created_at": due - timedelta(days=3),
                "completed_at": due if done else None})
            if len(batch) == 20_000:
                db.session.execute(Task.__table__.insert(), batch)
                db.session.commit()
                batch.clear()
        if batch:
            db.session.execute(Task.__table__.insert(), batch)
            db.session.commit()
        print(f"{db.session.scalar(select(func.count(Inquiry.id))):,} inquiries, "
              f"{db.session.scalar(select(func.count(Task.id))):,} tasks ({url.split(':')[0]})")

        reasons = ["Me diagnosticaron una arritmia y quisiera una segunda opinión.",
                   "My mother has Parkinson's disease and needs a specialist.",
                   "我父亲被诊断为肝癌，希望得到第二诊疗意见",
                   "Мне нужна консультация по поводу замены тазобедренного сустава"]
        route_ms, create_ms = [], []
        for n in range(args.routes):
            data = {"given_name": "Bench", "family_name": f"Mark{n}", "email": f"bench{n}@example.com",
                    "service": "treatment", "reason": reasons[n % len(reasons)], "preferred_language": "es"}
            t0 = time.perf_counter()
            inquiry = create_inquiry(data, source="api")
            db.session.commit()
            create_ms.append((time.perf_counter() - t0) * 1000)
            inquiry.center, inquiry.coordinator = None, None
            t0 = time.perf_counter()
            routing.route_inquiry(inquiry)
            route_ms.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
        print(f"route a new inquiry: median {statistics.median(route_ms):.1f} ms, "
              f"max {max(route_ms):.1f} ms")
        print(f"create (validate, patient, inquiry, task, route, audit, commit): median "
              f"{statistics.median(create_ms):.1f} ms")
        for run in (1, 2):
            t0 = time.perf_counter()
            stalled = sweeps.detect_stalled_cases(batch=100_000)
            escalated = sweeps.escalate_overdue_tasks()
            reminded = sweeps.send_records_reminders()
            digests = sweeps.send_daily_digests()
            db.session.commit()
            print(f"sweep {run}: {(time.perf_counter() - t0) * 1000:.0f} ms "
                  f"({stalled} stalled cases flagged, {escalated} tasks escalated, "
                  f"{reminded} records reminders, {digests} digests)")


if __name__ == "__main__":
    main()
