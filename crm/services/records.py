"""The records checklist, completed: each record received (with the documents that brought
it) or waived with a reason, required or optional; what the case page shows of it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import labels
from ..extensions import db
from ..models import ChecklistItem, Document, Inquiry, User
from ..models.base import utcnow
from ..models.mail import RECORD_ITEMS
from . import audit, conversation, followups
from .errors import NotFound, ValidationError
from .validation import clean_text

WAIVER_MAX = 500
RECEIVED, WAIVED, MISSING = "received", "waived", "missing"


def state_of(item: ChecklistItem) -> str:
    """``received``, ``waived`` or ``missing``."""
    return RECEIVED if item.is_received else WAIVED if item.is_waived else MISSING


def outstanding(items: Iterable[ChecklistItem], *, required_only: bool = False) -> list[ChecklistItem]:
    """The records still to come: neither received nor waived (and required, if asked)."""
    return [item for item in items if item.is_outstanding and (item.is_required or not required_only)]


@dataclass
class Row:
    """One line of the case page's checklist: the record, its state, the documents that brought
    it and, when waived, who waived it."""

    item: ChecklistItem
    state: str
    label: str
    documents: list[Document] = field(default_factory=list)
    waived_by: User | None = None


def rows(items: list[ChecklistItem], documents: list[Document]) -> list[Row]:
    """The checklist as the case page shows it, from what the page has loaded already (one more
    query only when a record was waived: who waived it)."""
    by_item: dict[int, list[Document]] = {}
    for document in documents:
        if document.checklist_item_id is not None:
            by_item.setdefault(document.checklist_item_id, []).append(document)
    waivers = {item.waived_by_id for item in items if item.is_waived and item.waived_by_id}
    people = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(waivers)))} \
        if waivers else {}
    return [Row(item=item, state=state_of(item),
                label=str(labels.RECORD_ITEM_LABELS.get(item.item, item.item)),
                documents=by_item.get(item.id, []), waived_by=people.get(item.waived_by_id))
            for item in items]


def _item(inquiry: Inquiry, item_id) -> ChecklistItem:
    item = next((i for i in conversation.checklist(inquiry) if str(i.id) == str(item_id)), None)
    if item is None:
        raise ValidationError("item", _l("Choose one of the records on the checklist."))
    return item


def _settled(inquiry: Inquiry, *, actor: User | None, at: datetime) -> None:
    """Nothing asked for is still to come: the case no longer waits on the patient and the
    chase ends (as when the last record arrives)."""
    db.session.flush()
    if not outstanding(conversation.checklist(inquiry)):
        followups.patient_answered(inquiry, at=at)
        followups.on_event(inquiry, "records_complete", actor=actor, at=at)


def waive(inquiry: Inquiry, item_id, reason: str, *, actor: User) -> ChecklistItem:
    """The case goes on without this record, for the reason given. Flushes."""
    errors: dict = {}
    reason = clean_text(reason, "reason", errors, max_len=WAIVER_MAX, required=True)
    if errors:
        raise ValidationError(fields=errors)
    item = _item(inquiry, item_id)
    if item.is_received:
        raise ValidationError("reason", _l("This record has arrived already: there is nothing to waive."))
    if item.is_waived:
        raise ValidationError("reason", _l("This record is waived already."))
    now = utcnow()
    item.waived_at, item.waived_by_id, item.waiver_reason = now, actor.id, reason
    inquiry.updated_at = now
    _settled(inquiry, actor=actor, at=now)
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"record={item.item} waived")
    return item


def set_required(inquiry: Inquiry, item_id, required: bool, *, actor: User) -> ChecklistItem:
    """Make a record required (it holds the case in ``records``) or optional. Flushes."""
    item = _item(inquiry, item_id)
    if item.is_required != bool(required):
        item.is_required = bool(required)
        inquiry.updated_at = utcnow()
        db.session.flush()
        audit.record("change", actor=actor, inquiry=inquiry,
                     detail=f"record={item.item} {'required' if required else 'optional'}")
    return item


def link_document(inquiry: Inquiry, item_id, document_id, *, actor: User) -> ChecklistItem:
    """A document of the case (an email attachment, a file sent without saying what it is)
    brings this record: the record is received, linked to the document. Flushes."""
    item = _item(inquiry, item_id)
    try:
        document = conversation.get_document(inquiry, document_id)
    except NotFound:
        raise ValidationError("document_id", _l("Choose one of this case's documents.")) from None
    now = utcnow()
    document.checklist_item = item
    if item.received_at is None:
        item.received_at = now
    item.waived_at, item.waived_by_id, item.waiver_reason = None, None, None
    inquiry.updated_at = now
    _settled(inquiry, actor=actor, at=now)
    audit.record("change", actor=actor, inquiry=inquiry,
                 detail=f"record={item.item} received document={document.id}")
    return item


def ask_without_mail(inquiry: Inquiry, items: Iterable[str], *, actor: User | None) -> list[ChecklistItem]:
    """Records asked for where the patient cannot be mailed (no address, or it bounced): the
    checklist grows, the case waits on the patient and the chase (a coordinator's call) starts.
    Flushes."""
    keys = [key for key in dict.fromkeys(items) if key in RECORD_ITEMS]
    now = utcnow()
    existing = {item.item: item for item in conversation.checklist(inquiry)}
    for key in keys:
        item = existing.get(key)
        if item is None:
            db.session.add(ChecklistItem(inquiry_id=inquiry.id, item=key, requested_at=now,
                                         requested_by_id=actor.id if actor else None))
        else:  # asked again: to come once more
            item.received_at, item.requested_at = None, now
            item.waived_at, item.waived_by_id, item.waiver_reason = None, None, None
    db.session.flush()
    followups.wait_on_patient(inquiry, at=now)
    followups.ensure_records_chase(inquiry, at=now)
    return outstanding(conversation.checklist(inquiry))


def ask_for(inquiry: Inquiry, items: Iterable[str], *, actor: User,
            note: str = "") -> tuple[list[ChecklistItem], bool]:
    """Ask the patient for records: by mail when they can be mailed, else on the checklist
    only (the coordinator calls). Returns the records now outstanding and whether mail went.
    Flushes."""
    items = list(items)
    patient = inquiry.patient
    if patient.email and patient.email_bounced_at is None:
        return conversation.request_records(inquiry, items, actor=actor, note=note), True
    if not [key for key in items if key in RECORD_ITEMS]:
        raise ValidationError("items", _l("Choose at least one record to ask for."))
    return ask_without_mail(inquiry, items, actor=actor), False
