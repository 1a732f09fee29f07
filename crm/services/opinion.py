"""The online second opinion: the home physician's questions (which decide the reviewing
specialist), the opinion written and uploaded, the patient told in their language and reading
it in the portal, follow-up questions answered as addenda, a turnaround target in business
days, and one step to turn it into an in-person case.

The reference the patient and the home physician quote is the case's own (``ITN-000123``): it
is on every mail, the portal and the signed reply address already, and finds the case in the
search box; a second number would only be a second thing to mistype."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Document, Inquiry, OpinionAddendum, OpinionRequest, StageChange, User
from ..models.base import utcnow
from ..models.opinion import ASKED_BY
from . import audit, conversation, followups, outbox
from .errors import DomainError, ValidationError, flush_or_conflict
from .uploads import StoredFile
from .validation import clean_choice, clean_text
from .visibility import as_id

ONLINE, IN_PERSON = "second_opinion_online", "second_opinion_in_person"
OPINION, ADDENDUM = "opinion", "addendum"
WRITING = "in_care"  # on the online path, the stage in which the opinion is written
DUE_SOON_DAYS = 2


class OpinionNotReleased(DomainError):
    """The written opinion is not with the patient yet: the case stays in ``in_care`` (409)."""

    code = "opinion_not_released"
    status = 409
    default_message = _l("The written opinion is not with the patient yet: upload it and send it "
                         "to the patient first.")


def opinion_of(inquiry: Inquiry) -> OpinionRequest | None:
    return db.session.scalar(select(OpinionRequest).where(OpinionRequest.inquiry_id == inquiry.id)
                             .options(selectinload(OpinionRequest.opinion_document),
                                      selectinload(OpinionRequest.addenda).selectinload(OpinionAddendum.document)))


def _ensure(inquiry: Inquiry) -> OpinionRequest:
    opinion = opinion_of(inquiry)
    if opinion is None:
        opinion = OpinionRequest(inquiry=inquiry, created_at=utcnow())
        db.session.add(opinion)
    return opinion


def _require_online(inquiry: Inquiry) -> None:
    if inquiry.service != ONLINE:
        raise ValidationError("service", _l("This is not an online second opinion."))


def opinion_released(inquiry: Inquiry, facts) -> DomainError | None:
    """The gate out of ``in_care`` on the online path: the opinion is with the patient."""
    if inquiry.service != ONLINE:
        return None
    opinion = facts.once("opinion", lambda: opinion_of(inquiry))
    return None if opinion is not None and opinion.released_at is not None else OpinionNotReleased()


def save_request(inquiry: Inquiry, data, *, actor: User) -> OpinionRequest:
    """The home physician's questions and the specialist they send the case to. Flushes."""
    _require_online(inquiry)
    errors: dict = {}
    questions = clean_text(data.get("physician_questions"), "physician_questions", errors, max_len=10000) or ""
    name = clean_text(data.get("specialist_name"), "specialist_name", errors, max_len=200) or ""
    specialty = clean_text(data.get("specialty"), "specialty", errors, max_len=200) or ""
    if name and not questions and "physician_questions" not in errors:
        errors["physician_questions"] = _l("Record the home physician's questions: they decide who reviews the case.")
    if errors:
        raise ValidationError(fields=errors)
    opinion = _ensure(inquiry)
    opinion.physician_questions, opinion.specialist_name, opinion.specialty = questions, name, specialty
    opinion.updated_at = inquiry.updated_at = utcnow()
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail="opinion=questions")
    return opinion


# --- the turnaround -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Turnaround:
    """The opinion's due date: ``OPINION_TURNAROUND_DAYS`` business days after writing began."""

    days: int
    started_at: datetime | None
    due_at: datetime | None
    delivered_at: datetime | None
    #: ``waiting`` (not begun), ``on_time``, ``due_soon``, ``late``, ``delivered``, ``delivered_late``
    state: str


def turnaround(inquiry: Inquiry, opinion: OpinionRequest | None, now: datetime | None = None) -> Turnaround:
    days = int(current_app.config["OPINION_TURNAROUND_DAYS"])
    started = next((c.created_at for c in reversed(inquiry.stage_changes) if c.to_stage == WRITING), None)
    delivered = opinion.released_at if opinion is not None else None
    if started is None:
        return Turnaround(days, None, None, delivered, "delivered" if delivered else "waiting")
    calendar, now = followups.calendar(), now or utcnow()
    due = calendar.add_business_days(started, days)
    if delivered is not None:
        state = "delivered" if delivered <= due else "delivered_late"
    elif now > due:
        state = "late"
    elif now >= calendar.add_business_days(started, max(0, days - DUE_SOON_DAYS)):
        state = "due_soon"
    else:
        state = "on_time"
    return Turnaround(days, started, due, delivered, state)


# --- the opinion and its addenda ----------------------------------------------------------------

def upload_opinion(inquiry: Inquiry, stored: StoredFile, *, actor: User) -> Document:
    """File the specialist's written opinion on the case (a document of kind ``opinion``); a
    new upload replaces the one not yet released. Flushes."""
    _require_online(inquiry)
    opinion = _ensure(inquiry)
    if opinion.released_at is not None:
        raise ValidationError("file", _l("The opinion is with the patient already: answer further questions "
                                         "with an addendum."))
    document = conversation.add_document(inquiry, stored, source="staff")
    document.kind = OPINION
    opinion.opinion_document = document
    opinion.updated_at = utcnow()
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"opinion={document.id} uploaded")
    return document


def release(inquiry: Inquiry, *, actor: User):
    """Tell the patient, in their language, that the opinion is ready on their page. Flushes."""
    _require_online(inquiry)
    opinion = opinion_of(inquiry)
    if opinion is None or opinion.opinion_document is None:
        raise ValidationError("file", _l("Upload the written opinion first."))
    if opinion.released_at is not None:
        raise ValidationError("file", _l("The opinion is with the patient already."))
    conversation.check_reachable(inquiry)
    opinion.released_at, opinion.released_by_id = utcnow(), actor.id
    row = outbox.queue_patient_mail(inquiry, "opinion_ready", actor=actor, dedupe_key=f"opinion_ready:{inquiry.id}",
                                    in_portal=True)
    db.session.flush()
    conversation.mail_sent(inquiry, row, actor=actor, kind="opinion_ready")
    return opinion


def ask(inquiry: Inquiry, question: str, *, asked_by: str, actor: User | None = None) -> OpinionAddendum:
    """A follow-up question on the released opinion, from the patient (the portal) or from the
    home physician (typed by the coordinator). Flushes."""
    errors: dict = {}
    question = clean_text(question, "question", errors, max_len=4000, required=True)
    asked_by = clean_choice(asked_by, "asked_by", errors, ASKED_BY, required=True)
    opinion = opinion_of(inquiry)
    if not errors and (opinion is None or opinion.released_at is None):
        errors["question"] = _l("Questions on the opinion can be asked once it is written.")
    if errors:
        raise ValidationError(fields=errors)
    now = utcnow()
    addendum = OpinionAddendum(opinion=opinion, asked_by=asked_by, question=question, asked_at=now)
    db.session.add(addendum)
    if asked_by == "patient":
        conversation.record_patient_message(inquiry, question, channel="portal", kind="opinion_question",
                                            language=inquiry.patient.preferred_language, at=now)
    inquiry.updated_at = now
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, origin=None if actor else "portal",
                 detail=f"addendum={addendum.id} asked")
    return addendum


def answer(inquiry: Inquiry, addendum_id, stored: StoredFile, *, actor: User) -> OpinionAddendum:
    """The specialist's addendum answering a question, filed and sent to the patient. Flushes."""
    opinion = opinion_of(inquiry)
    addendum = db.session.get(OpinionAddendum, as_id(addendum_id))
    if opinion is None or addendum is None or addendum.opinion_id != opinion.id:
        raise ValidationError("addendum", _l("Choose one of the questions on the opinion."))
    if addendum.answered_at is not None:
        raise ValidationError("addendum", _l("This question is answered already."))
    conversation.check_reachable(inquiry)
    document = conversation.add_document(inquiry, stored, source="staff")
    document.kind = ADDENDUM
    addendum.document, addendum.answered_at, addendum.answered_by_id = document, utcnow(), actor.id
    row = outbox.queue_patient_mail(inquiry, "opinion_addendum", actor=actor, question=addendum.question)
    db.session.flush()
    conversation.mail_sent(inquiry, row, actor=actor, kind="opinion_addendum")
    return addendum


def readable_documents(inquiry: Inquiry, opinion: OpinionRequest | None) -> list[Document]:
    """What the patient may read in the portal: the released opinion and the answered addenda."""
    if opinion is None or opinion.released_at is None or opinion.opinion_document is None:
        return []
    return [opinion.opinion_document] + [a.document for a in opinion.addenda if a.document is not None]


# --- coming to Boston after all -----------------------------------------------------------------

def convert_to_in_person(inquiry: Inquiry, *, actor: User, expected_version) -> OpinionRequest:
    """The patient decides to come: the case becomes an in-person second opinion, whose path has
    scheduling and travel; a case past them (the opinion written, or being written) goes on to
    scheduling. Recorded on the timeline. Flushes."""
    from .pipeline import check_version
    check_version(inquiry, expected_version)
    _require_online(inquiry)
    if inquiry.is_closed:
        raise ValidationError("service", _l("Reopen the case before changing it."))
    now = utcnow()
    opinion = _ensure(inquiry)
    opinion.converted_at, opinion.converted_by_id = now, actor.id
    inquiry.service = IN_PERSON
    from_stage = inquiry.stage
    if from_stage in (WRITING, "follow_up"):
        change = StageChange(inquiry=inquiry, actor=actor, from_stage=from_stage, to_stage="scheduling",
                             note="", created_at=now)
        db.session.add(change)
        inquiry.stage, inquiry.stage_entered_at = "scheduling", now
    inquiry.updated_at = now
    inquiry.bump_version()
    flush_or_conflict(db.session)
    if inquiry.stage != from_stage:
        followups.on_stage_change(inquiry, from_stage, inquiry.stage, actor=actor, at=now)
    audit.record("change", actor=actor, inquiry=inquiry, detail="fields=service converted_to_in_person")
    return opinion
