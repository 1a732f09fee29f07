"""The dashboard's counts: per day, week and month of creation and center; open tasks per hour due

Revision ID: 98f1eb635889
Revises: 8a4c17b7081f
Create Date: 2026-12-04 21:43:00

The data step counts the cases already there, with its own copy of the counting rules as they
are at this revision (``crm.services.dashboard_counts``; the code may change later, this
migration must still give the same result then). Should the rules change, a later migration
counts again with its own copy, or the operator runs ``crm dashboard rebuild``.
"""
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

# revision identifiers, used by Alembic.
revision = '98f1eb635889'
down_revision = '8a4c17b7081f'
branch_labels = None
depends_on = None

OPEN_STAGES = ("new", "intake", "records", "clinical_review", "financial_clearance", "scheduling",
               "travel", "in_care", "follow_up")
RANK = {stage: rank for rank, stage in enumerate(OPEN_STAGES)}
ONE_DAY = timedelta(days=1)


def upgrade():
    op.create_table('dashboard_counts',
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('center_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('dim', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'start', 'center_id', 'dim', 'value', name=op.f('pk_dashboard_counts')),
    sqlite_with_rowid=False
    )
    op.create_table('open_task_counts',
    sa.Column('center_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('assignee_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('due_hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_paused', sa.Boolean(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('center_id', 'assignee_id', 'due_hour', 'is_paused',
                            name=op.f('pk_open_task_counts')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_inquiries_coordinator_center', 'inquiries', ['coordinator_id', 'center_id', 'id'],
                    unique=False)
    count_existing_cases(op.get_bind())


def downgrade():
    op.drop_index('ix_inquiries_coordinator_center', table_name='inquiries')
    op.drop_table('open_task_counts')
    op.drop_table('dashboard_counts')


# --- the data step: the counting rules at this revision ----------------------------------------

inquiries = sa.table("inquiries", sa.column("id"), sa.column("created_at", sa.DateTime()),
                     sa.column("center_id"), sa.column("stage"), sa.column("source"),
                     sa.column("coordinator_id"), sa.column("patient_id"))
patients = sa.table("patients", sa.column("id"), sa.column("country"), sa.column("preferred_language"))
changes = sa.table("stage_changes", sa.column("id"), sa.column("inquiry_id"), sa.column("to_stage"),
                   sa.column("created_at", sa.DateTime()))
tasks = sa.table("tasks", sa.column("id"), sa.column("inquiry_id"), sa.column("kind"), sa.column("state"),
                 sa.column("assignee_id"), sa.column("due_at", sa.DateTime()),
                 sa.column("paused_at", sa.DateTime()),
                 sa.column("completed_at", sa.DateTime()))
counts_table = sa.table("dashboard_counts", sa.column("period"), sa.column("start"), sa.column("center_id"),
                        sa.column("dim"), sa.column("value"), sa.column("n"))
tasks_table = sa.table("open_task_counts", sa.column("center_id"), sa.column("assignee_id"),
                       sa.column("due_hour", sa.DateTime()), sa.column("is_paused"), sa.column("n"))


def _utc(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _outcome(state, due_at, completed_at):
    if state == "open":
        return "open:" + due_at.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H")
    if completed_at is None:
        return None
    if state == "done":
        return "on_time" if completed_at <= due_at else "late"
    return "late" if completed_at > due_at else None


def count_existing_cases(connection, batch=20_000):
    local = ZoneInfo(current_app.config["TIMEZONE"])
    is_pg = connection.dialect.name == "postgresql"
    connection.execute(counts_table.insert().values(period="z", start=date(1970, 1, 1), center_id=0,
                                                    dim="zone", value=local.key, n=1))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(inquiries.c.id, inquiries.c.created_at, inquiries.c.center_id, inquiries.c.stage,
                      inquiries.c.source, inquiries.c.coordinator_id, patients.c.country,
                      patients.c.preferred_language)
            .select_from(inquiries.join(patients, patients.c.id == inquiries.c.patient_id))
            .where(inquiries.c.id > last).order_by(inquiries.c.id).limit(batch)).all()
        if not rows:
            return
        last = rows[-1].id
        counts, open_tasks = Counter(), Counter()
        keys, stages = {}, {}
        for row in rows:
            key = (_utc(row.created_at).astimezone(local).date(), row.center_id or 0)
            keys[row.id], stages[row.id] = key, row.stage
            counts[(*key, "total", "")] += 1
            counts[(*key, "stage", row.stage)] += 1
            counts[(*key, "source", row.source)] += 1
            counts[(*key, "country", row.country or "")] += 1
            counts[(*key, "language", row.preferred_language or "")] += 1
            if row.stage != "closed":
                counts[(*key, "coordinator", str(row.coordinator_id or 0))] += 1
        ids = list(keys)
        history = defaultdict(list)
        for inquiry_id, to_stage, at in connection.execute(
                sa.select(changes.c.inquiry_id, changes.c.to_stage, changes.c.created_at)
                .where(changes.c.inquiry_id.between(ids[0], ids[-1]))
                .order_by(changes.c.inquiry_id, changes.c.id)):
            if inquiry_id in keys:
                history[inquiry_id].append((to_stage, _utc(at)))
        for inquiry_id, key in keys.items():
            steps = history.get(inquiry_id, [])
            for (stage, entered), (_next, left) in zip(steps, steps[1:]):
                if stage in RANK:
                    counts[(*key, f"stay:{stage}", str(max(0, (left - entered) // ONE_DAY)))] += 1
            reached = [RANK[s] for s, _at in steps if s in RANK]
            if stages[inquiry_id] in RANK:
                reached.append(RANK[stages[inquiry_id]])
            if reached:
                counts[(*key, "furthest", OPEN_STAGES[max(reached)])] += 1
        answered = set()
        for row in connection.execute(
                sa.select(tasks.c.inquiry_id, tasks.c.kind, tasks.c.state, tasks.c.assignee_id,
                          tasks.c.due_at, tasks.c.paused_at, tasks.c.completed_at)
                .where(tasks.c.inquiry_id.between(ids[0], ids[-1]),
                       sa.or_(tasks.c.state == "open", tasks.c.kind == "first_response"))
                .order_by(tasks.c.id)):
            if row.inquiry_id not in keys:
                continue
            key = keys[row.inquiry_id]
            due = _utc(row.due_at)
            if row.kind == "first_response" and row.inquiry_id not in answered:
                answered.add(row.inquiry_id)
                outcome = _outcome(row.state, due, _utc(row.completed_at))
                if outcome:
                    counts[(*key, "response", outcome)] += 1
            if row.state == "open":
                hour = due.replace(minute=0, second=0, microsecond=0)
                open_tasks[(key[1], row.assignee_id or 0, hour if is_pg else hour.replace(tzinfo=None),
                            row.paused_at is not None)] += 1
        rows_out = Counter()
        for (day, center, dim, value), n in counts.items():
            periods = (("d", day), ("w", day - timedelta(days=day.weekday())), ("m", day.replace(day=1)))
            for period, start in periods[2:] if dim == "coordinator" else periods:  # open cases: months only
                rows_out[(period, start, center, dim, value)] += n
        _upsert(connection, counts_table, ("period", "start", "center_id", "dim", "value"), rows_out)
        _upsert(connection, tasks_table, ("center_id", "assignee_id", "due_hour", "is_paused"), open_tasks)


def _upsert(connection, table, keys, counter):
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    items = sorted(counter.items())
    for start in range(0, len(items), 1000):
        stmt = insert(table).values([dict(zip(keys, key), n=n) for key, n in items[start:start + 1000]])
        connection.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                                      set_={"n": table.c.n + stmt.excluded.n}))
