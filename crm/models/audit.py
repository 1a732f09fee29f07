"""The audit trail: who read, changed, exported or downloaded which record, and every sign-in.
Append-only, and each row chained to the one before it by a SHA-256 hash.

The chain, so that an auditor can check it without Itinera
-----------------------------------------------------------
Rows are read in ``id`` order. Each row's ``prev_hash`` is the ``hash`` of the row before it
(64 zeros for the first row), and its ``hash`` is the lowercase hexadecimal SHA-256 of the
bytes below. Any edited, deleted, inserted or reordered row breaks a link; ``crm audit verify``
names the first row where it breaks. (Rows cut off at the end leave no broken link: keep the
last id and hash that ``crm audit verify`` prints, and compare them the next time.)

The bytes hashed are the row's fields as netstrings, in this order, without separators::

    "itinera-audit-1", id, created_at, actor_id, service, role, action, outcome,
    record_type, record_id, patient_id, inquiry_id, address, origin, detail, prev_hash

each written as ``<length in bytes>:<UTF-8 bytes>,`` (``6:portal,``), or ``-,`` when the
field is NULL. Integers are written in decimal (``17``); ``created_at`` in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six digits of microseconds). In Python::

    def field(value):
        if value is None:
            return b"-,"
        data = str(value).encode()
        return str(len(data)).encode() + b":" + data + b","

    prev = "0" * 64
    for row in rows_in_id_order:  # created_at formatted as above
        data = b"".join(field(v) for v in ("itinera-audit-1", row.id, row.created_at, ...,
                                           row.detail, prev))
        assert row.prev_hash == prev and row.hash == hashlib.sha256(data).hexdigest()
        prev = row.hash

The columns hold ids and field names, never patient values. ``actor_id``, ``patient_id`` and
``inquiry_id`` are plain numbers, not foreign keys: the trail outlives what it records, names a
record that was refused (``record_type``/``record_id``), and appending to it never waits for a
lock on a patient's or case's row.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from sqlalchemy import DDL, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

ACTIONS = ("view", "create", "change", "transition", "export", "export_failed", "download", "merge",
           "sign_in", "sign_out", "sign_in_failed", "password_changed", "totp_enabled", "totp_disabled",
           "totp_reset", "recovery_code_used", "break_glass_granted", "break_glass_used",
           "break_glass_expired")
SUCCESS, DENIED, FAILED = "success", "denied", "failed"
OUTCOMES = (SUCCESS, DENIED, FAILED)
#: The role written for a service account (``service``): the portal, the scheduler, mail import…
SERVICE_ROLE = "service"
CHAIN_VERSION = "itinera-audit-1"
GENESIS = "0" * 64
#: The fields hashed, in order (``prev_hash`` comes last).
HASHED = ("id", "created_at", "actor_id", "service", "role", "action", "outcome", "record_type",
          "record_id", "patient_id", "inquiry_id", "address", "origin", "detail")


class AuditEvent(db.Model):
    """One access to patient data, or one sign-in. Ids and field names, never the values."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The staff member, or None for a service account (``service``).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: The service account when no staff member acted: ``portal`` (the patient through their
    #: link), ``scheduler``, ``mail``, ``cli``, ``public`` (the request form), ``system``.
    service: Mapped[str | None] = mapped_column(String(20))
    #: The actor's role at the time (``service`` for a service account).
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(10), default=SUCCESS)
    #: The record asked for: ``inquiry``, ``patient``, ``task``, ``inquiry_list``… and its id
    #: (also when refused: then ``patient_id`` and ``inquiry_id`` stay empty).
    record_type: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    inquiry_id: Mapped[int | None] = mapped_column(Integer)
    #: The client's IP address, for a request.
    address: Mapped[str | None] = mapped_column(String(64))
    #: Where from: the client address, ``api …``, ``cli``, ``portal``, ``mail``, ``scheduler``.
    origin: Mapped[str | None] = mapped_column(String(64))
    #: What, without values: e.g. ``fields=email,phone`` or ``to=records``.
    detail: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # the admins' screen: newest first, filtered by one of these (keyset pages on created_at, id)
        Index("ix_audit_events_created", "created_at", "id"),
        Index("ix_audit_events_patient", "patient_id", "created_at", "id"),
        Index("ix_audit_events_actor", "actor_id", "created_at", "id"),
        Index("ix_audit_events_service", "service", "created_at", "id"),
        Index("ix_audit_events_record", "record_type", "record_id", "created_at", "id"),
        Index("ix_audit_events_action", "action", "created_at", "id"),
        Index("ix_audit_events_outcome", "outcome", "created_at", "id"),
    )


def format_time(value: datetime) -> str:
    """``created_at`` as hashed: UTC, microseconds, ``Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _field(value) -> bytes:
    if value is None:
        return b"-,"
    data = (format_time(value) if isinstance(value, datetime) else str(value)).encode("utf-8")
    return b"%d:%s," % (len(data), data)


def row_hash(values: dict, prev_hash: str) -> str:
    """The hash of a row with these ``values`` (the ``HASHED`` fields) after ``prev_hash``."""
    data = b"".join([_field(CHAIN_VERSION), *(_field(values[name]) for name in HASHED), _field(prev_hash)])
    return hashlib.sha256(data).hexdigest()


# Append-only in the database itself, not only by convention.
APPEND_ONLY_SQLITE = [
    DDL("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
    DDL("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
]
APPEND_ONLY_POSTGRESQL = [
    DDL("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$"),
    DDL("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"),
    DDL("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"),
]
for _ddl in APPEND_ONLY_SQLITE:
    event.listen(AuditEvent.__table__, "after_create", _ddl.execute_if(dialect="sqlite"))
for _ddl in APPEND_ONLY_POSTGRESQL:
    event.listen(AuditEvent.__table__, "after_create", _ddl.execute_if(dialect="postgresql"))
