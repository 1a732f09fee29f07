"""A user's open tasks by due date, with whether each is paused (tasks.paused_at) in the index: the
navigation's count of overdue and due-today tasks, on every page, is read from the index alone
(a coordinator with 3,700 open tasks: 8 ms → 0.6 ms on SQLite)

Revision ID: 5c1d2e3f4a5b
Revises: fb9da56ea723
Create Date: 2026-12-04 23:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c1d2e3f4a5b'
down_revision = 'fb9da56ea723'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assignee_state_due_paused', ['assignee_id', 'state', 'due_at', 'paused_at'],
                              unique=False)
        batch_op.drop_index('ix_tasks_assignee_state_due')


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assignee_state_due', ['assignee_id', 'state', 'due_at'], unique=False)
        batch_op.drop_index('ix_tasks_assignee_state_due_paused')
