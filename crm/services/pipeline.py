"""The pipeline: the stages, the moves allowed between them, what must be true before a case
moves on (``GATES``), and the one way to make a move."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from .. import labels
from ..extensions import db
from ..models import Inquiry, StageChange, User
from ..models.base import utcnow
from ..models.inquiry import ACCEPT, DECLINE, MORE_RECORDS
from . import audit, conversation, followups
from .errors import (DomainError, Forbidden, StaleVersion, TransitionNotAllowed, ValidationError,
                     flush_or_conflict)
from .facts import Facts
from .formatting import format_list

STAGES = ("new", "intake", "records", "clinical_review", "financial_clearance", "scheduling",
          "travel", "in_care", "follow_up", "closed")
OPEN_STAGES = STAGES[:-1]
CLOSED = "closed"
OUTCOMES = ("completed", "declined_by_patient", "not_accepted", "no_response",
            "referred_elsewhere", "duplicate")
#: An online second opinion never comes to Boston: no scheduling, no travel.
ONLINE_SKIPS = frozenset({"scheduling", "travel"})
NOTE_MAX = 4000


def path_for(service: str) -> tuple[str, ...]:
    """The open stages an inquiry of this service goes through, in order."""
    if service == "second_opinion_online":
        return tuple(s for s in OPEN_STAGES if s not in ONLINE_SKIPS)
    return OPEN_STAGES


def allowed_moves(inquiry: Inquiry, actor: User | None) -> list[str]:
    """The stages ``actor`` may move ``inquiry`` to now: one step on, one step back, or close;
    a closed case only reopens, by a manager, to the stage it was closed from."""
    if actor is not None and not actor.sees_cases:
        return []
    if inquiry.stage == CLOSED:
        if actor is None or not actor.is_manager:
            return []
        return [reopen_stage(inquiry)]
    path = path_for(inquiry.service)
    if inquiry.stage not in path:  # e.g. service changed to online while in travel
        return [path[-1], CLOSED] if inquiry.stage != path[-1] else [CLOSED]
    i = path.index(inquiry.stage)
    moves = []
    if i + 1 < len(path):
        moves.append(path[i + 1])
    if i > 0:
        moves.append(path[i - 1])
    moves.append(CLOSED)
    return moves


def reopen_stage(inquiry: Inquiry) -> str:
    """Where a closed inquiry goes back to: the stage it was closed from."""
    for change in reversed(inquiry.stage_changes):
        if change.to_stage == CLOSED and change.from_stage and change.from_stage != CLOSED:
            return change.from_stage
    return "intake"


class RecordsMissing(DomainError):
    """A required record is neither received nor waived: the case stays in ``records`` (409).
    ``fields`` names each missing record by its checklist key."""

    code = "records_missing"
    status = 409
    default_message = _l("Some required records are still missing.")

    def __init__(self, items):
        names = format_list([str(labels.RECORD_ITEM_LABELS.get(item.item, item.item)) for item in items])
        super().__init__(_l("The case stays in records until each required record is received or "
                            "waived. Still missing: %(items)s.", items=names))
        #: The short form, for the journey strip.
        self.reason = _l("Still missing: %(items)s.", items=names)
        self.fields = {f"checklist.{item.item}": _l("Missing: mark it received or waive it with a reason.")
                       for item in items}


class ReviewNotAccepted(DomainError):
    """The reviewing physician has not accepted the case: it does not go on to financial
    clearance (409)."""

    code = "review_not_accepted"
    status = 409
    default_message = _l("The reviewing physician has not accepted this case yet: record their "
                         "decision first.")


def records_complete(inquiry: Inquiry, facts: Facts) -> DomainError | None:
    """Every required record is received or waived."""
    missing = [item for item in facts.checklist if item.is_required and item.is_outstanding]
    return RecordsMissing(missing) if missing else None


def review_accepted(inquiry: Inquiry, facts: Facts) -> DomainError | None:
    """The latest clinical review accepted the case."""
    review = facts.review
    if review is not None and review.decision == ACCEPT:
        return None
    if review is not None and review.decision == DECLINE:
        return ReviewNotAccepted(_l("The reviewing physician declined this case: close it as not "
                                    "accepted, or record a new decision."))
    if review is not None and review.decision == MORE_RECORDS:
        return ReviewNotAccepted(_l("The reviewing physician asked for more records: record their "
                                    "decision on the records now in."))
    return ReviewNotAccepted()


def _journey_gates() -> dict:
    """The later steps' gates: a case leaves financial clearance once cleared (for scheduling,
    or for the opinion being written on the online path), and an online opinion is with the
    patient before its case goes on to follow-up."""
    from .finance import financially_cleared
    from .opinion import opinion_released
    return {("financial_clearance", "scheduling"): financially_cleared,
            ("financial_clearance", "in_care"): financially_cleared,
            ("in_care", "follow_up"): opinion_released}


#: What must be true before a case takes a move: (from, to) -> a check returning the error to
#: refuse the move with (a ``DomainError``, 409 with its own code), or None. The journey strip
#: shows the same error as the reason a step is blocked. Only these moves are checked: moving
#: back, closing and reopening never are.
GATES: dict[tuple[str, str], Callable[[Inquiry, Facts], DomainError | None]] = {
    ("records", "clinical_review"): records_complete,
    ("clinical_review", "financial_clearance"): review_accepted,
    **{move: check for move, check in _journey_gates().items()},
}


def reason_of(refusal: DomainError) -> str:
    """What the journey strip says of a gate's refusal: its short ``reason``, else its message."""
    return str(getattr(refusal, "reason", None) or refusal.message)


def gate_error(inquiry: Inquiry, to: str, facts: Facts | None = None,
               from_stage: str | None = None) -> DomainError | None:
    """Why ``inquiry`` may not move from ``from_stage`` (by default its stage) to ``to``: the
    error of that move's gate, or None."""
    check = GATES.get((from_stage or inquiry.stage, to))
    return check(inquiry, facts or Facts(inquiry)) if check is not None else None


def blocked_moves(inquiry: Inquiry, moves, facts: Facts | None = None) -> dict[str, DomainError]:
    """Of the allowed ``moves``, those a gate refuses now, with the refusal."""
    facts = facts or Facts(inquiry)
    errors = {to: gate_error(inquiry, to, facts) for to in moves}
    return {to: error for to, error in errors.items() if error is not None}


def check_version(inquiry: Inquiry, expected_version) -> None:
    """Raise ``StaleVersion`` unless the caller read the inquiry at its current version."""
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ValidationError("version", _l("The version you read this case at is missing.")) from None
    if expected != inquiry.version:
        raise StaleVersion()


def transition_inquiry(inquiry: Inquiry, to: str, *, actor: User | None, expected_version,
                       outcome: str | None = None, note: str | None = None,
                       origin: str | None = None, facts: Facts | None = None) -> StageChange:
    """Move ``inquiry`` to stage ``to``, recording who, why and when. Flushes.

    :param expected_version: the ``version`` the caller's form or API client read.
    :param outcome: required when closing, refused otherwise.
    :raises: ``TransitionNotAllowed`` for a move not allowed from the stage; the move's gate's
        error (``RecordsMissing``, ``ReviewNotAccepted``…) when the case is not ready for it.
    """
    check_version(inquiry, expected_version)
    note = (note or "").strip()
    errors = {}
    if to not in STAGES:
        errors["to"] = _l("Unknown stage.")
    if len(note) > NOTE_MAX:
        errors["note"] = _l("Keep the note under %(max)s characters.", max=NOTE_MAX)
    if to == CLOSED and inquiry.stage != CLOSED:
        if not outcome:
            errors["outcome"] = _l("Choose the outcome to close this case.")
        elif outcome not in OUTCOMES:
            errors["outcome"] = _l("Unknown outcome.")
    elif outcome:
        errors["outcome"] = _l("An outcome is given only when closing a case.")
    if errors:
        raise ValidationError(fields=errors)
    if inquiry.stage == CLOSED and actor is not None and not actor.is_manager:
        raise Forbidden(_l("Only a manager can reopen a closed case."))
    if to not in allowed_moves(inquiry, actor):
        raise TransitionNotAllowed()
    refusal = gate_error(inquiry, to, facts)
    if refusal is not None:
        raise refusal

    now = utcnow()
    change = StageChange(inquiry=inquiry, actor=actor, from_stage=inquiry.stage, to_stage=to,
                         outcome=outcome if to == CLOSED else None, note=note, created_at=now)
    db.session.add(change)
    inquiry.stage = to
    inquiry.stage_entered_at = now
    inquiry.updated_at = now
    inquiry.bump_version()
    if to == CLOSED:
        inquiry.outcome, inquiry.closed_at = outcome, now
    else:
        inquiry.outcome, inquiry.closed_at = None, None
    flush_or_conflict(db.session)
    followups.on_stage_change(inquiry, change.from_stage, to, actor=actor, at=now)
    conversation.on_transition(inquiry, change.from_stage, to, actor=actor)
    audit.record("transition", actor=actor, inquiry=inquiry, origin=origin,
                 detail=f"from={change.from_stage} to={to}")
    return change
