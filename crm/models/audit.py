"""The audit trail: who viewed, changed, exported or downloaded which record. Append-only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

ACTIONS = ("view", "create", "change", "transition", "export", "export_failed", "download", "merge",
           "sign_in", "sign_out", "sign_in_failed")


class AuditEvent(db.Model):
    """One access to patient data. Holds ids and field names, never the values."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id"))
    #: Where from: the client address, or ``cli``/``api``/``scheduler``.
    origin: Mapped[str | None] = mapped_column(String(64))
    #: What, without values: e.g. ``fields=email,phone`` or ``to=records``.
    detail: Mapped[str] = mapped_column(String(200), default="")

    patient: Mapped["Patient | None"] = relationship()  # noqa: F821
    inquiry: Mapped["Inquiry | None"] = relationship()  # noqa: F821

    __table_args__ = (
        Index("ix_audit_events_patient", "patient_id", "created_at"),
        Index("ix_audit_events_actor", "actor_id", "created_at"),
    )


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
]
for _ddl in APPEND_ONLY_SQLITE:
    event.listen(AuditEvent.__table__, "after_create", _ddl.execute_if(dialect="sqlite"))
for _ddl in APPEND_ONLY_POSTGRESQL:
    event.listen(AuditEvent.__table__, "after_create", _ddl.execute_if(dialect="postgresql"))
