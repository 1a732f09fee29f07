"""The audit trail as a hash chain: service account, role, outcome, the record asked for, the
client's address, prev_hash and hash (existing rows chained in id order); ids without foreign
keys; indexes for the admins' screen; TRUNCATE refused on PostgreSQL too

Revision ID: 186d23cedae0
Revises: 4fe4cb7f12e8
Create Date: 2026-12-04 23:30:00.000000

"""
import hashlib
import ipaddress
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '186d23cedae0'
down_revision = '4fe4cb7f12e8'
branch_labels = None
depends_on = None

NEW_INDEXES = {
    'ix_audit_events_created': ['created_at', 'id'],
    'ix_audit_events_patient': ['patient_id', 'created_at', 'id'],
    'ix_audit_events_actor': ['actor_id', 'created_at', 'id'],
    'ix_audit_events_service': ['service', 'created_at', 'id'],
    'ix_audit_events_record': ['record_type', 'record_id', 'created_at', 'id'],
    'ix_audit_events_action': ['action', 'created_at', 'id'],
    'ix_audit_events_outcome': ['outcome', 'created_at', 'id'],
}
FOREIGN_KEYS = [('fk_audit_events_actor_id_users', 'actor_id', 'users'),
                ('fk_audit_events_inquiry_id_inquiries', 'inquiry_id', 'inquiries'),
                ('fk_audit_events_patient_id_patients', 'patient_id', 'patients')]
# The chain's format, version 1 (crm/models/audit.py documents it); frozen here as it was.
HASHED = ("id", "created_at", "actor_id", "service", "role", "action", "outcome", "record_type",
          "record_id", "patient_id", "inquiry_id", "address", "origin", "detail")
UPDATED = ("service", "role", "outcome", "record_type", "record_id", "address", "prev_hash", "hash", "id")
SERVICES = {"portal": "portal", "scheduler": "scheduler", "mail": "mail", "imap": "mail", "cli": "cli"}


def _field(value) -> bytes:
    if value is None:
        return b"-,"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    data = str(value).encode("utf-8")
    return b"%d:%s," % (len(data), data)


def _hash(values: dict, prev_hash: str) -> str:
    data = b"".join([_field("itinera-audit-1"), *(_field(values[name]) for name in HASHED),
                     _field(prev_hash)])
    return hashlib.sha256(data).hexdigest()


def _address(origin):
    """The client's address in an old row's origin (``1.2.3.4`` or ``api 1.2.3.4``)."""
    candidate = (origin or "").rsplit(" ", 1)[-1]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _drop_triggers(dialect):
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")


def _create_triggers(dialect, *, truncate: bool):
    if dialect == "sqlite":
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")
        op.execute("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")
    elif dialect == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
        if truncate:
            op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def _chain_existing_rows(bind, batch=5000):
    """Each existing row gets what can be known of it and its place in the chain, in id order."""
    table = sa.table('audit_events', sa.column('id', sa.Integer()),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     *(sa.column(name) for name in ('actor_id', 'action', 'patient_id', 'inquiry_id',
                                                     'origin', 'detail')))
    update = sa.text("UPDATE audit_events SET service = :service, role = :role, outcome = :outcome, "
                     "record_type = :record_type, record_id = :record_id, address = :address, "
                     "prev_hash = :prev_hash, hash = :hash WHERE id = :id")
    prev, last_id = "0" * 64, 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.created_at, table.c.actor_id, table.c.action,
                                      table.c.patient_id, table.c.inquiry_id, table.c.origin, table.c.detail)
                            .where(table.c.id > last_id).order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        params = []
        for row in rows:
            values = dict(zip(("id", "created_at", "actor_id", "action", "patient_id", "inquiry_id", "origin",
                               "detail"), row))
            origin = values["origin"] or ""
            values["role"] = None if values["actor_id"] is not None else "service"
            values["service"] = None if values["actor_id"] is not None else (
                SERVICES.get(origin.split(" ", 1)[0])
                or ("public" if _address(origin) == origin else "system"))
            values["outcome"] = "failed" if values["action"].endswith("_failed") else "success"
            values["record_type"], values["record_id"] = (
                ("inquiry", values["inquiry_id"]) if values["inquiry_id"] is not None else
                ("patient", values["patient_id"]) if values["patient_id"] is not None else (None, None))
            values["address"] = _address(origin)
            values["prev_hash"], values["hash"] = prev, _hash(values, prev)
            prev = values["hash"]
            params.append({name: values[name] for name in UPDATED})
        bind.execute(update, params)
        last_id = rows[-1][0]


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    _drop_triggers(dialect)  # the existing rows are chained first
    with op.batch_alter_table('audit_events', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('service', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('record_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('record_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_rows(bind)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:  # SQLite: one copy of the table
        for name, _column, _table in FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_='foreignkey')
        batch_op.drop_index('ix_audit_events_patient')
        batch_op.drop_index('ix_audit_events_actor')
        for name in ('outcome', 'prev_hash', 'hash'):
            batch_op.alter_column(name, existing_type=sa.String(length=64 if name != 'outcome' else 10),
                                  nullable=False)
        for name, columns in NEW_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    _create_triggers(dialect, truncate=True)


def downgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    _drop_triggers(dialect)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for name in NEW_INDEXES:
            batch_op.drop_index(name)
        for name in ('hash', 'prev_hash', 'address', 'record_id', 'record_type', 'outcome', 'role',
                     'service'):
            batch_op.drop_column(name)
        batch_op.create_index('ix_audit_events_actor', ['actor_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_events_patient', ['patient_id', 'created_at'], unique=False)
        for name, column, table in FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], ['id'])
    _create_triggers(dialect, truncate=False)
