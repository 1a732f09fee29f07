"""The clinical review: the center's reviewing physician (a staff user or a physician named by
hand) and their decision, with what follows from it: accepted, the case may go on to financial
clearance; declined, it is offered for closing as not accepted; more records, it goes back to
``records`` with the records asked of the patient."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Inquiry, User
from ..models.base import utcnow
from ..models.inquiry import ACCEPT, DECLINE, MORE_RECORDS, REVIEW_DECISIONS, ClinicalReview
from ..models.mail import RECORD_ITEMS
from . import audit, pipeline, records
from .errors import NotFound, ValidationError, flush_or_conflict
from .facts import Facts
from .validation import clean_text
from .visibility import as_id

REASON_MAX = 4000
NAME_MAX = 200
#: Where a reviewing physician may be named: while the records come in, and during the review.
NAMING_STAGES = ("records", "clinical_review")
DECISION_STAGE = "clinical_review"


def reviewers() -> list[User]:
    """Staff who may be named as the reviewing physician: every active user who works on cases."""
    return list(db.session.scalars(select(User).where(User.is_active.is_(True),
                                                      User.role.in_(("coordinator", "manager")))
                                   .order_by(User.name)))


def _clean_reviewer(reviewer_id, reviewer_name, errors: dict) -> tuple[User | None, str | None]:
    """The physician named: a user (by id) or a name typed by hand, exactly one of them."""
    name = clean_text(reviewer_name, "reviewer_name", errors, max_len=NAME_MAX)
    user = None
    if reviewer_id not in (None, "", 0, "0"):
        try:
            user = db.session.get(User, as_id(reviewer_id))
        except NotFound:
            user = None
        if user is None or not user.is_active or not user.sees_cases:
            errors["reviewer_id"] = _l("Choose one of the physicians offered.")
            user = None
    if user is not None and name:
        errors["reviewer_name"] = _l("Choose a physician from the list or type a name, not both.")
    return user, name


def _round(inquiry: Inquiry, facts: Facts, *, actor: User, user: User | None,
           name: str | None) -> ClinicalReview:
    """The pending review round, its physician set to the one named (if any); a new round when
    the last one is decided (its physician kept unless another is named)."""
    current = facts.review
    if current is not None and current.decision is None:
        if user is not None or name:
            current.reviewer, current.reviewer_name = user, None if user is not None else name
        return current
    if user is None and not name:
        if current is None:
            raise ValidationError("reviewer_id", _l("Name the reviewing physician: choose one from the "
                                                    "list or type their name."))
        user, name = current.reviewer, current.reviewer_name
    review = ClinicalReview(inquiry_id=inquiry.id, reviewer=user, reviewer_name=None if user else name,
                            created_at=utcnow(), created_by_id=actor.id, requested_items=[], reason="")
    db.session.add(review)
    facts.reviews.append(review)
    return review


def name_reviewer(inquiry: Inquiry, *, actor: User, reviewer_id=None, reviewer_name=None,
                  facts: Facts | None = None) -> ClinicalReview:
    """Name the physician who reviews the case (before their decision). Flushes."""
    errors: dict = {}
    user, name = _clean_reviewer(reviewer_id, reviewer_name, errors)
    if not errors and user is None and not name:
        errors["reviewer_id"] = _l("Name the reviewing physician: choose one from the list or type "
                                   "their name.")
    if not errors and inquiry.stage not in NAMING_STAGES:
        errors["reviewer_id"] = _l("The reviewing physician is named while the case is in records "
                                   "or in clinical review.")
    if errors:
        raise ValidationError(fields=errors)
    facts = facts or Facts(inquiry)
    review = _round(inquiry, facts, actor=actor, user=user, name=name)
    inquiry.updated_at = utcnow()
    flush_or_conflict(db.session)
    audit.record("change", actor=actor, inquiry=inquiry, detail="review=reviewer")
    return review


def record_decision(inquiry: Inquiry, decision: str, *, actor: User, expected_version,
                    reason: str = "", items: Iterable[str] = (), reviewer_id=None,
                    reviewer_name=None, facts: Facts | None = None,
                    origin: str | None = None) -> ClinicalReview:
    """Record the reviewing physician's decision, and what follows from it. Flushes.

    :param decision: ``accept``, ``decline`` (``reason`` required) or ``more_records``
        (``items`` required: the records the physician wants; the case goes back to
        ``records`` and the patient is asked for them).
    :param reviewer_id: or ``reviewer_name``: the physician, if not named before.
    """
    pipeline.check_version(inquiry, expected_version)
    errors: dict = {}
    user, name = _clean_reviewer(reviewer_id, reviewer_name, errors)
    if decision not in REVIEW_DECISIONS:
        errors["decision"] = _l("Choose the reviewing physician's decision.")
    reason = clean_text(reason, "reason", errors, max_len=REASON_MAX) or ""
    if decision == DECLINE and not reason and "reason" not in errors:
        errors["reason"] = _l("Say why the case is declined: the coordinator explains it to the patient.")
    keys = [key for key in dict.fromkeys(items or ()) if key in RECORD_ITEMS]
    if decision == MORE_RECORDS and not keys:
        errors["items"] = _l("Choose the records the physician wants to see.")
    if not errors and inquiry.stage != DECISION_STAGE:
        errors["decision"] = _l("The decision is recorded while the case is in clinical review.")
    if errors:
        raise ValidationError(fields=errors)
    facts = facts or Facts(inquiry)
    review = _round(inquiry, facts, actor=actor, user=user, name=name)
    now = utcnow()
    review.decision, review.reason, review.decided_at, review.decided_by = decision, reason, now, actor
    review.requested_items = keys if decision == MORE_RECORDS else []
    inquiry.updated_at = now
    inquiry.bump_version()
    flush_or_conflict(db.session)
    audit.record("change", actor=actor, inquiry=inquiry, origin=origin, detail=f"review={decision}")
    if decision == MORE_RECORDS:
        pipeline.transition_inquiry(inquiry, "records", actor=actor, expected_version=inquiry.version,
                                    origin=origin, facts=facts)
        records.ask_for(inquiry, keys, actor=actor)
    return review


def is_declined(facts: Facts) -> bool:
    """The latest decision declined the case (the case page offers to close it)."""
    return facts.review is not None and facts.review.decision == DECLINE


def is_accepted(facts: Facts) -> bool:
    return facts.review is not None and facts.review.decision == ACCEPT
