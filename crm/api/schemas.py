"""JSON shapes of the API: the contract's field names."""
from __future__ import annotations

from ..models import Inquiry, Patient


def iso(value):
    return value.isoformat() if value is not None else None


def patient_json(patient: Patient) -> dict:
    return {"id": patient.id, "mrn": patient.mrn, "given_name": patient.given_name,
            "family_name": patient.family_name, "email": patient.email, "phone": patient.phone,
            "date_of_birth": iso(patient.date_of_birth), "sex": patient.sex,
            "country": patient.country, "preferred_language": patient.preferred_language,
            "timezone": patient.timezone}


def inquiry_json(inquiry: Inquiry) -> dict:
    referring = None
    if any((inquiry.referring_name, inquiry.referring_email, inquiry.referring_institution,
            inquiry.referring_country)):
        referring = {"name": inquiry.referring_name, "email": inquiry.referring_email,
                     "institution": inquiry.referring_institution,
                     "country": inquiry.referring_country}
    coordinator = inquiry.coordinator
    return {"id": inquiry.id, "reference": inquiry.reference, "version": inquiry.version,
            "stage": inquiry.stage, "outcome": inquiry.outcome, "service": inquiry.service,
            "center": inquiry.center.key if inquiry.center else None,
            "coordinator": {"id": coordinator.id, "name": coordinator.name,
                            "email": coordinator.email} if coordinator else None,
            "source": inquiry.source, "reason": inquiry.reason, "referring_physician": referring,
            "patient": patient_json(inquiry.patient), "created_at": iso(inquiry.created_at),
            "updated_at": iso(inquiry.updated_at), "stage_entered_at": iso(inquiry.stage_entered_at),
            "closed_at": iso(inquiry.closed_at)}


def timeline_json(entries: list[dict]) -> list[dict]:
    out = []
    for entry in entries:
        item = {"kind": entry["kind"], "at": iso(entry["at"]),
                "actor": entry["actor"].name if entry["actor"] else None}
        if entry["kind"] in ("task", "task_closed"):
            item.update({"task": entry["task"].kind, "state": entry["task"].state})
        elif entry["kind"] in ("review", "review_assigned"):
            review = entry["review"]
            item.update({"reviewer": review.reviewer_label, "text": entry["text"],
                         "decision": review.decision if entry["kind"] == "review" else None,
                         "requested_items": list(review.requested_items or [])
                         if entry["kind"] == "review" else []})
        elif entry["kind"] == "stage":
            item.update({"from": entry["from"], "to": entry["to"], "outcome": entry["outcome"],
                         "note": entry["text"]})
        else:
            item["text"] = entry["text"]
        out.append(item)
    return out


def task_json(task) -> dict:
    return {"id": task.id, "inquiry_id": task.inquiry_id, "kind": task.kind, "state": task.state,
            "due_at": iso(task.due_at), "assignee": {"id": task.assignee.id, "name": task.assignee.name}
            if task.assignee else None, "created_at": iso(task.created_at),
            "completed_at": iso(task.completed_at)}
