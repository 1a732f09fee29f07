"""The journey's later steps: appointments with their state, financial clearance and its
self-pay ledger, travel plans with companions, online second opinions with their addenda, files
sent with outgoing mail, and what a document is (``documents.kind``)

Revision ID: 319fcfeab16d
Revises: 116f8b7929d2
Create Date: 2026-12-04 22:02:32.250944

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '319fcfeab16d'
down_revision = '116f8b7929d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('physician', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_appointments_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_appointments_center_id_centers')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_appointments_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_appointments_created_by_id_users')),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_appointments_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_inquiry', ['inquiry_id', 'starts_at'], unique=False)

    op.create_table('outbound_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['mail_id'], ['outbound_mail.id'], name=op.f('fk_outbound_attachments_mail_id_outbound_mail'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_attachments'))
    )
    with op.batch_alter_table('outbound_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_attachments_mail_id'), ['mail_id'], unique=False)

    op.create_table('financial_clearances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('payer_type', sa.String(length=12), nullable=False),
    sa.Column('insurer', sa.String(length=200), nullable=True),
    sa.Column('plan_name', sa.String(length=200), nullable=True),
    sa.Column('is_precert_required', sa.Boolean(), nullable=True),
    sa.Column('precert_status', sa.String(length=16), nullable=False),
    sa.Column('precert_reference', sa.String(length=100), nullable=True),
    sa.Column('sponsor_kind', sa.String(length=12), nullable=True),
    sa.Column('sponsor_name', sa.String(length=200), nullable=True),
    sa.Column('guarantee_document_id', sa.Integer(), nullable=True),
    sa.Column('guarantee_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('guarantee_currency', sa.String(length=3), nullable=True),
    sa.Column('guarantee_valid_from', sa.Date(), nullable=True),
    sa.Column('guarantee_valid_until', sa.Date(), nullable=True),
    sa.Column('estimate_minor', sa.BigInteger(), nullable=True),
    sa.Column('deposit_minor', sa.BigInteger(), nullable=True),
    sa.Column('patient_currency', sa.String(length=3), nullable=True),
    sa.Column('is_assistance_requested', sa.Boolean(), nullable=False),
    sa.Column('assistance_note', sa.Text(), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cleared_by_id'], ['users.id'], name=op.f('fk_financial_clearances_cleared_by_id_users')),
    sa.ForeignKeyConstraint(['guarantee_document_id'], ['documents.id'], name=op.f('fk_financial_clearances_guarantee_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_financial_clearances_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_financial_clearances')),
    sa.UniqueConstraint('inquiry_id', name=op.f('uq_financial_clearances_inquiry_id'))
    )
    op.create_table('opinion_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('physician_questions', sa.Text(), nullable=False),
    sa.Column('specialist_name', sa.String(length=200), nullable=False),
    sa.Column('specialty', sa.String(length=200), nullable=False),
    sa.Column('opinion_document_id', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('converted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['converted_by_id'], ['users.id'], name=op.f('fk_opinion_requests_converted_by_id_users')),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_opinion_requests_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opinion_document_id'], ['documents.id'], name=op.f('fk_opinion_requests_opinion_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_opinion_requests_released_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_requests')),
    sa.UniqueConstraint('inquiry_id', name=op.f('uq_opinion_requests_inquiry_id'))
    )
    op.create_table('travel_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('arrival_date', sa.Date(), nullable=True),
    sa.Column('departure_date', sa.Date(), nullable=True),
    sa.Column('arrival_flight', sa.String(length=100), nullable=False),
    sa.Column('departure_flight', sa.String(length=100), nullable=False),
    sa.Column('lodging', sa.String(length=300), nullable=False),
    sa.Column('is_pickup_needed', sa.Boolean(), nullable=False),
    sa.Column('is_interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('interpreter_language', sa.String(length=12), nullable=True),
    sa.Column('special_needs', sa.Text(), nullable=False),
    sa.Column('passport_name', sa.String(length=200), nullable=False),
    sa.Column('passport_number', sa.String(length=20), nullable=False),
    sa.Column('passport_country', sa.String(length=2), nullable=True),
    sa.Column('passport_expires_on', sa.Date(), nullable=True),
    sa.Column('patient_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patient_corrected', sa.JSON(), nullable=False),
    sa.Column('visa_letter_id', sa.Integer(), nullable=True),
    sa.Column('visa_letter_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_travel_plans_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visa_letter_id'], ['documents.id'], name=op.f('fk_travel_plans_visa_letter_id_documents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_plans')),
    sa.UniqueConstraint('inquiry_id', name=op.f('uq_travel_plans_inquiry_id'))
    )
    op.create_table('finance_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clearance_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_finance_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['clearance_id'], ['financial_clearances.id'], name=op.f('fk_finance_entries_clearance_id_financial_clearances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_entries'))
    )
    with op.batch_alter_table('finance_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_entries_clearance_id'), ['clearance_id'], unique=False)

    op.create_table('opinion_addenda',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('asked_by', sa.String(length=10), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_opinion_addenda_answered_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_opinion_addenda_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opinion_id'], ['opinion_requests.id'], name=op.f('fk_opinion_addenda_opinion_id_opinion_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_addenda'))
    )
    with op.batch_alter_table('opinion_addenda', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_addenda_opinion_id'), ['opinion_id'], unique=False)

    op.create_table('travel_companions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('relationship_to_patient', sa.String(length=12), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('passport_number', sa.String(length=20), nullable=False),
    sa.Column('passport_country', sa.String(length=2), nullable=True),
    sa.Column('passport_expires_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['travel_plans.id'], name=op.f('fk_travel_companions_plan_id_travel_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_companions'))
    )
    with op.batch_alter_table('travel_companions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_travel_companions_plan_id'), ['plan_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))



def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('travel_companions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_companions_plan_id'))

    op.drop_table('travel_companions')
    with op.batch_alter_table('opinion_addenda', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_addenda_opinion_id'))

    op.drop_table('opinion_addenda')
    with op.batch_alter_table('finance_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_entries_clearance_id'))

    op.drop_table('finance_entries')
    op.drop_table('travel_plans')
    op.drop_table('opinion_requests')
    op.drop_table('financial_clearances')
    with op.batch_alter_table('outbound_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_attachments_mail_id'))

    op.drop_table('outbound_attachments')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_inquiry')

    op.drop_table('appointments')
