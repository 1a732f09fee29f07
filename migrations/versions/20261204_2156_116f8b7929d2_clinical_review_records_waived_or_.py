"""The journey, first steps: the clinical review, records waived or optional, clinical trials

Revision ID: 116f8b7929d2
Revises: 98f1eb635889
Create Date: 2026-12-04 21:56:14.520079

Records asked for before this revision stay required and not waived (the column's server
default); cases already past clinical review have no review row, and the journey strip shows
their review as done because the case moved on.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '116f8b7929d2'
down_revision = '98f1eb635889'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinical_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_items', sa.JSON(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_clinical_reviews_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_clinical_reviews_decided_by_id_users')),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_clinical_reviews_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_clinical_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_reviews'))
    )
    with op.batch_alter_table('clinical_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinical_reviews_inquiry_id'), ['inquiry_id'], unique=False)

    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_required', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('waived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('waived_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('waiver_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_checklist_items_waived_by_id_users'), 'users', ['waived_by_id'], ['id'])

    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial_interest_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('trial_name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('trial_registry_id', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_column('trial_registry_id')
        batch_op.drop_column('trial_name')
        batch_op.drop_column('trial_interest_at')

    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checklist_items_waived_by_id_users'), type_='foreignkey')
        batch_op.drop_column('waiver_reason')
        batch_op.drop_column('waived_by_id')
        batch_op.drop_column('waived_at')
        batch_op.drop_column('is_required')

    with op.batch_alter_table('clinical_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinical_reviews_inquiry_id'))

    op.drop_table('clinical_reviews')
