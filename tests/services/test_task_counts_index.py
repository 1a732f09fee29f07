"""The navigation's count of a user's overdue and due-today tasks, on every page: right with
paused tasks among them, and read from an index alone (a coordinator may hold thousands)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from crm.models import Task
from crm.services import followups


def test_the_due_counts_leave_out_paused_tasks_and_read_only_an_index(factory, db):
    coordinator = factory.user()
    cases = [factory.inquiry(coordinator_id=coordinator.id) for _ in range(4)]
    now = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in Boston
    dues = {cases[0].id: (now - timedelta(hours=3), None), cases[1].id: (now - timedelta(hours=1), now),
            cases[2].id: (now + timedelta(hours=5), None), cases[3].id: (now + timedelta(hours=6), now)}
    for task in db.session.scalars(select(Task).where(Task.inquiry_id.in_(dues))):
        task.due_at, task.paused_at = dues[task.inquiry_id]
    db.session.flush()

    statements = []
    engine = db.session.get_bind()

    def capture(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        # a paused task waits on the patient: not late, whatever its date says
        assert followups.due_counts(coordinator, now=now) == {"overdue": 1, "today": 1}
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    if db.engine.dialect.name == "sqlite":
        [(statement, parameters)] = [(s, p) for s, p in statements if "FROM tasks" in s]
        plan = " ".join(row[3] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters))
        assert "COVERING INDEX" in plan, plan
