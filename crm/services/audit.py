"""The audit trail: one call records one access, with ids and field names only."""
from __future__ import annotations

from flask import g, has_app_context

from ..extensions import db
from ..models import AuditEvent, Inquiry, Patient, User


def current_origin() -> str | None:
    """Where the current action comes from, as set by the web, API or CLI entry point."""
    return g.get("origin") if has_app_context() else None


def record(action: str, *, actor: User | None, patient: Patient | None = None,
           inquiry: Inquiry | None = None, origin: str | None = None, detail: str = "") -> AuditEvent:
    """Append one event to the audit trail. ``detail`` must never hold patient values."""
    if inquiry is not None and patient is None:
        patient = inquiry.patient
    event = AuditEvent(action=action, actor_id=actor.id if actor else None, patient=patient, inquiry=inquiry,
                       origin=(origin or current_origin() or "")[:64] or None, detail=detail[:200])
    db.session.add(event)
    return event
