"""What the patient sees and does in the portal: where the case stands, the thread, the
records checklist, replies and uploads. Everything shows at once on the coordinator's case."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import labels
from ..extensions import db
from ..models import Inquiry, Message, Patient, PortalLink
from ..models.base import utcnow
from .facts import Facts
from .journey import patient_journey
from .pipeline import path_for
from . import audit, care, conversation, uploads
from .errors import ValidationError
from .portal_links import EXPIRED, OK, resolve
from .validation import clean_email

OTHER = "other"


def open_link(token: str):
    """``(status, link)`` of a portal token; a good link's use is remembered."""
    status, link = resolve(token)
    if status == OK:
        link.last_used_at = utcnow()
        audit.record("view", actor=None, inquiry=link.inquiry, origin="portal", detail=f"link={link.id}")
    return status, link


def page(link: PortalLink) -> dict:
    """Ready data for the portal page: no rule is left to the template."""
    inquiry = link.inquiry
    path = list(path_for(inquiry.service)) + ["closed"]
    messages = [m for m in conversation.thread(inquiry) if m.kind not in ("auto_reply", "bounce")]
    facts = Facts(inquiry, checklist=conversation.checklist(inquiry))
    return {"inquiry": inquiry, "patient": inquiry.patient, "status_text": labels.STAGE_PATIENT_TEXT[inquiry.stage],
            "steps": [labels.STAGE_LABELS[s] for s in path],
            "step": path.index(inquiry.stage) if inquiry.stage in path else 0,
            "messages": messages, "checklist": facts.checklist,
            "journey": patient_journey(inquiry, facts),
            "my_documents": [d for d in conversation.documents_of(inquiry) if d.source == "portal"],
            "coordinator": inquiry.coordinator, "max_mb": current_app.config["MAX_UPLOAD_MB"],
            **care.portal_context(inquiry, facts)}  # appointments, the travel plan, the estimate, the opinion


def item_choices(link: PortalLink) -> list[tuple[str, str]]:
    missing = [(str(i.id), str(labels.RECORD_ITEM_LABELS.get(i.item, i.item)))
               for i in conversation.missing_items(link.inquiry)]
    return missing + [(OTHER, str(_l("Another document")))]


def reply(link: PortalLink, body: str) -> Message:
    """The patient's message joins the thread. Flushes."""
    message = conversation.record_patient_message(link.inquiry, body.strip(), channel="portal",
                                                  kind="portal_reply",
                                                  language=link.inquiry.patient.preferred_language)
    db.session.flush()
    audit.record("change", actor=None, inquiry=link.inquiry, origin="portal", detail="portal reply")
    return message


def upload(link: PortalLink, file, item_value: str | None):
    """Check and store an uploaded file on the case; a checklist item it answers is ticked.
    Raises ``ValidationError`` (field ``file``) in the patient's language. Flushes."""
    if file is None:
        raise ValidationError("file", _l("Choose a file to send."))
    limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    data = file.stream.read(limit + 1)
    if not data:
        raise ValidationError("file", _l("This file is empty. Check the file and send it again.")
                              if file.filename else _l("Choose a file to send."))
    item = None
    if item_value and item_value != OTHER:
        item = next((i for i in conversation.missing_items(link.inquiry) if str(i.id) == item_value), None)
    stored = uploads.store(data, file.filename, upload_dir=current_app.config["UPLOAD_DIR"], max_bytes=limit)
    inquiry = link.inquiry
    # the file's name only: what record it answers is shown from the document, in the reader's language
    message = conversation.record_patient_message(inquiry, stored.filename, channel="portal", kind="upload",
                                                  language=inquiry.patient.preferred_language)
    document = conversation.add_document(inquiry, stored, source="portal", message=message, item=item)
    audit.record("change", actor=None, inquiry=inquiry, origin="portal", detail="portal upload")
    return document


def send_fresh_link(email: str, token: str = "") -> None:  # nosec B107 - a portal link, not a password
    """A fresh link by mail, only to the address on file, and only when ``email`` is it. The
    caller answers the same whatever happens: the page reveals nothing."""
    errors: dict = {}
    email = clean_email(email, "email", errors)
    if errors or not email:
        return
    status, link = resolve(token) if token else (None, None)
    inquiries = []
    if status in (OK, EXPIRED) and link is not None:
        inquiry = db.session.get(Inquiry, link.inquiry_id)
        if inquiry is not None:
            inquiries = [inquiry]
    else:
        inquiries = db.session.scalars(
            select(Inquiry).join(Patient).where(Patient.email_lower == email.lower(),
                                                Inquiry.stage != "closed")
            .order_by(Inquiry.created_at.desc()).limit(3)).all()
    for inquiry in inquiries:
        patient = inquiry.patient
        if patient.email_lower == email.lower() and patient.email_bounced_at is None:
            conversation.send_new_link(inquiry, actor=None)
