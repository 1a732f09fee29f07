"""The conversation with the patient: the thread, what the coordinator sends, what the patient
answers and uploads, the records checklist."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import labels
from ..extensions import db
from ..i18n import force_locale
from ..mail.render import Rendered
from ..models import ChecklistItem, Document, InboundMail, Inquiry, Message, OutboundMail, PortalLink, User
from ..models.base import utcnow
from ..models.mail import RECORD_ITEMS
from . import audit, followups, outbox, portal_links
from .errors import NotFound, ValidationError
from .uploads import StoredFile
from .validation import clean_text
from .visibility import as_id

BODY_MAX = 10000
ACKNOWLEDGEMENT = "acknowledgement"


def thread(inquiry: Inquiry) -> list[Message]:
    """Every message of the case, oldest first, with its documents."""
    return list(db.session.scalars(
        select(Message).where(Message.inquiry_id == inquiry.id)
        .options(selectinload(Message.documents).selectinload(Document.checklist_item),
                 selectinload(Message.author), selectinload(Message.outbound))
        .order_by(Message.created_at, Message.id)))


def documents_of(inquiry: Inquiry) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.inquiry_id == inquiry.id)
                                   .order_by(Document.id)))


def checklist(inquiry: Inquiry) -> list[ChecklistItem]:
    items = db.session.scalars(select(ChecklistItem).where(ChecklistItem.inquiry_id == inquiry.id)).all()
    return sorted(items, key=lambda i: RECORD_ITEMS.index(i.item) if i.item in RECORD_ITEMS else 99)


def missing_items(inquiry: Inquiry) -> list[ChecklistItem]:
    """The records still to come: neither received nor waived."""
    return [item for item in checklist(inquiry) if item.is_outstanding]


def item_labels(items: Iterable[ChecklistItem]) -> list[str]:
    return [str(labels.RECORD_ITEM_LABELS.get(i.item, i.item)) for i in items]


def _check_reachable(inquiry: Inquiry) -> None:
    patient = inquiry.patient
    if not patient.email:
        raise ValidationError("body", _l("This patient has no email address: add one on the patient's record first."))
    if patient.email_bounced_at is not None:
        raise ValidationError("body", _l("Mail to this patient's address bounced: correct the address on the patient's record first."))


def _sent(inquiry: Inquiry, row: OutboundMail | None, *, actor: User, kind: str) -> OutboundMail:
    inquiry.updated_at = utcnow()
    followups.on_event(inquiry, "coordinator_wrote", actor=actor)
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"mail={kind}")
    return row


#: For the journey's services (appointments, finance, travel, the opinion), which mail too.
check_reachable, mail_sent = _check_reachable, _sent


def acknowledge(inquiry: Inquiry, *, link: PortalLink | None = None,
                rendered: Rendered | None = None) -> OutboundMail | None:
    """The acknowledgement every new inquiry gets at once, in the patient's language: written
    as of the inquiry's opening, so it comes first on the thread even when mail intake writes
    it after more messages of the same batch. Called as the inquiry is opened (its key only
    guards against a second call); ``rendered``: rendered already (``ACKNOWLEDGEMENT``)."""
    return outbox.queue_patient_mail(inquiry, ACKNOWLEDGEMENT, dedupe_key=f"ack:{inquiry.id}",
                                     link=link, new_case=True, at=inquiry.created_at, rendered=rendered)


def send_reply(inquiry: Inquiry, body: str, *, actor: User) -> OutboundMail:
    """A message typed by the coordinator, sent in the patient's language's frame. Flushes."""
    errors: dict = {}
    body = clean_text(body, "body", errors, max_len=BODY_MAX, required=True)
    if errors:
        raise ValidationError(fields=errors)
    _check_reachable(inquiry)
    last_in = db.session.scalar(select(Message.message_id).where(
        Message.inquiry_id == inquiry.id, Message.direction == "in", Message.channel == "email",
        Message.message_id.is_not(None)).order_by(Message.id.desc()).limit(1))
    row = outbox.queue_patient_mail(inquiry, "reply", actor=actor, body=body, in_reply_to=last_in)
    return _sent(inquiry, row, actor=actor, kind="reply")


def request_records(inquiry: Inquiry, items: Iterable[str], *, actor: User, note: str = "") -> list[ChecklistItem]:
    """Ask the patient for records: the checklist grows, the request is mailed with what is
    missing, and the case waits on the patient. Flushes."""
    items = [i for i in dict.fromkeys(items) if i in RECORD_ITEMS]
    errors: dict = {}
    note = clean_text(note, "note", errors, max_len=2000) or ""
    if not items:
        errors["items"] = _l("Choose at least one record to ask for.")
    if errors:
        raise ValidationError(fields=errors)
    _check_reachable(inquiry)
    now = utcnow()
    existing = {i.item: i for i in checklist(inquiry)}
    for key in items:
        if key not in existing:
            db.session.add(ChecklistItem(inquiry_id=inquiry.id, item=key, requested_at=now,
                                         requested_by_id=actor.id))
        else:  # asked again (unreadable, out of date, waived after all): missing once more
            existing[key].received_at, existing[key].requested_at = None, now
            existing[key].waived_at = existing[key].waived_by_id = existing[key].waiver_reason = None
    db.session.flush()
    missing = missing_items(inquiry)
    row = outbox.queue_patient_mail(inquiry, "records_request", actor=actor,
                                    items=item_labels(missing), note=note)
    followups.wait_on_patient(inquiry, at=now)
    followups.ensure_records_chase(inquiry, at=now)
    _sent(inquiry, row, actor=actor, kind="records_request")
    return missing


def send_appointment(inquiry: Inquiry, appointment, *, actor: User,
                     attachments=()) -> OutboundMail:
    """An appointment (``services.appointments``) mailed to the patient: confirmed, with the
    time in Boston and in the patient's zone, or cancelled; ``attachments``: its calendar file.
    Flushes."""
    _check_reachable(inquiry)
    patient = inquiry.patient
    center_zone = ZoneInfo(current_app.config["TIMEZONE"])
    when = appointment.starts_at
    with force_locale(patient.preferred_language):
        when_boston = format_datetime(when.astimezone(center_zone), "full", rebase=False)
        when_patient = format_datetime(when.astimezone(ZoneInfo(patient.timezone)), "full", rebase=False) \
            if patient.timezone and patient.timezone != current_app.config["TIMEZONE"] else None
        center = appointment.center.name_in(get_locale()) if appointment.center else ""
    kind = "appointment_cancelled" if appointment.state == "cancelled" else "appointment"
    row = outbox.queue_patient_mail(inquiry, kind, actor=actor, when_boston=when_boston,
                                    when_patient=when_patient, location=appointment.location,
                                    clinician=appointment.physician, center=center,
                                    note=appointment.note if kind == "appointment" else "",
                                    attachments=attachments)
    return _sent(inquiry, row, actor=actor, kind=kind)


TRAVEL_FIELDS = {
    "visa_letter": _l("Visa invitation letter"),
    "arrival": _l("Arrival"),
    "lodging": _l("Lodging"),
    "airport_pickup": _l("Airport pickup"),
    "interpreter": _l("Interpreter"),
}


def send_travel(inquiry: Inquiry, details: dict, *, actor: User, note: str = "") -> OutboundMail:
    """Travel details (visa letter, arrival, lodging, pickup, interpreter). Flushes."""
    _check_reachable(inquiry)
    filled = [(key, str(value).strip()) for key, value in details.items()
              if key in TRAVEL_FIELDS and str(value or "").strip()]
    if not filled and not note.strip():
        raise ValidationError("lodging", _l("Fill in at least one travel detail."))
    with force_locale(inquiry.patient.preferred_language):
        rows = [(str(TRAVEL_FIELDS[key]), value) for key, value in filled]
    row = outbox.queue_patient_mail(inquiry, "travel", actor=actor, details=rows, note=note.strip())
    return _sent(inquiry, row, actor=actor, kind="travel")


def send_new_link(inquiry: Inquiry, *, actor: User | None) -> OutboundMail | None:
    """Revoke every earlier portal link and mail a new one. Flushes."""
    if actor is not None:
        _check_reachable(inquiry)
    portal_links.issue_link(inquiry, revoke=True)
    row = outbox.queue_patient_mail(inquiry, "portal_link", actor=actor)
    audit.record("change", actor=actor, inquiry=inquiry, detail="portal_link=new")
    return row


def on_transition(inquiry: Inquiry, from_stage: str | None, to_stage: str, *, actor: User | None) -> None:
    """Mail a stage move implies: the written online opinion is ready."""
    if inquiry.service == "second_opinion_online" and from_stage == "in_care" and to_stage == "follow_up":
        outbox.queue_patient_mail(inquiry, "opinion_ready", actor=actor,
                                  dedupe_key=f"opinion_ready:{inquiry.id}")


def record_patient_message(inquiry: Inquiry, text: str, *, channel: str, kind: str = "email",
                           subject: str = "", from_addr: str | None = None,
                           message_id: str | None = None, inbound: InboundMail | None = None,
                           language: str | None = None, at: datetime | None = None) -> Message:
    """What the patient wrote lands on the thread; a coordinator is asked to answer. A message
    is the patient answering: the clocks paused while the case waited on them resume. An upload
    (``kind="upload"``) is not, unless it completes the records asked for (``add_document``)."""
    at = at or utcnow()
    message = Message(inquiry=inquiry, direction="in", channel=channel, kind=kind,
                      from_addr=from_addr, subject=subject[:300], body_text=text, language=language,
                      message_id=message_id, inbound=inbound, created_at=at)
    db.session.add(message)
    inquiry.updated_at = at
    if kind != "upload":
        followups.patient_answered(inquiry, at=at)
    followups.on_event(inquiry, "patient_wrote", actor=None, at=at)
    return message


def add_document(inquiry: Inquiry, stored: StoredFile, *, source: str, message: Message | None = None,
                 item: ChecklistItem | None = None, at: datetime | None = None) -> Document:
    """File a stored upload or attachment on the case; a checklist item it answers is received,
    and when nothing is missing any more the chase ends and the case no longer waits on the
    patient (a partial upload leaves the other clocks paused)."""
    at = at or utcnow()
    document = Document(inquiry=inquiry, message=message, checklist_item=item, source=source,
                        filename=stored.filename, content_type=stored.content_type, size=stored.size,
                        sha256=stored.sha256, storage_name=stored.storage_name, created_at=at)
    db.session.add(document)
    inquiry.updated_at = at
    if item is not None and item.received_at is None:
        item.received_at = at
        db.session.flush()
        if not missing_items(inquiry):
            _records_complete(inquiry, actor=None, at=at)
    return document


def _records_complete(inquiry: Inquiry, *, actor: User | None, at: datetime | None = None) -> None:
    """Every record asked for is in: the wait on the patient is over, the chase ends."""
    followups.patient_answered(inquiry, at=at)
    followups.on_event(inquiry, "records_complete", actor=actor, at=at)


def get_document(inquiry: Inquiry, document_id) -> Document:
    """A document of this inquiry (the caller checked the inquiry is visible), else NotFound."""
    document = db.session.get(Document, as_id(document_id))
    if document is None or document.inquiry_id != inquiry.id:
        raise NotFound()
    return document


def mark_received(inquiry: Inquiry, item_id: int, *, actor: User) -> ChecklistItem:
    """The coordinator ticks a record off (it came by post, by fax, on a CD). Flushes."""
    item = next((i for i in checklist(inquiry) if i.id == item_id), None)
    if item is None:
        raise ValidationError("item", _l("Choose one of the records on the checklist."))
    if item.received_at is None:
        item.received_at = utcnow()
        db.session.flush()
        if not missing_items(inquiry):
            _records_complete(inquiry, actor=actor)
        audit.record("change", actor=actor, inquiry=inquiry, detail=f"record={item.item} received")
    return item
