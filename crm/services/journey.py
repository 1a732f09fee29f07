"""The journey strip: each step of a case's way to care (records, clinical review, registration,
…) with its state, computed here only, for the case page and, in plain words, the portal.

How to add a step (financial clearance, appointments, travel, the online opinion…):

1. Write ``def my_step(ctx: Context) -> Step | None`` in this module (or import it here from
   your own module). Return None when the step does not concern this case (the trial step of
   a case that asks for no trial).
2. Give the ``Step`` the ``stage`` it belongs to; the strip is ordered by stage. A step whose
   stage is not on the case's path (``pipeline.path_for``: an online second opinion skips
   ``scheduling`` and ``travel``) is turned ``skipped`` for you, and so is a step not done when
   the case was closed.
3. Work out the state with ``ctx.state(stage, done=...)`` (before its stage ``todo``, at it
   ``current``, or ``blocked`` when the move on from that stage has a gate refusing it, past it
   ``done``), or set it yourself.
4. A step that must hold the case back gets a gate in ``pipeline.GATES`` for the move that
   leaves its stage; ``ctx.state`` then reports ``blocked`` with the gate's refusal as the
   reason (``pipeline.reason_of``: its short ``reason`` if it has one, else its message), so
   the strip and the refusal always say the same.
5. Read data through ``ctx.facts`` (``ctx.facts.once("key", loader)``): one query per page
   whatever reads it, never one per item; the case page's speed depends on it.
6. Every label and wording with ``_l``; ``patient_text`` is what the portal says: plain, warm,
   in the patient's language, no stage names nor staff words (None: not shown to the patient).
7. Add the function to ``STEPS`` (steps of one stage show in the order listed there).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..models import Inquiry
from ..models.inquiry import ACCEPT, DECLINE, MORE_RECORDS
from . import records
from .facts import Facts
from .pipeline import CLOSED, STAGES, gate_error, path_for, reason_of, reopen_stage

DONE, CURRENT, BLOCKED, TODO, SKIPPED = "done", "current", "blocked", "todo", "skipped"
STATES = (DONE, CURRENT, BLOCKED, TODO, SKIPPED)


@dataclass
class Step:
    """One step of the journey, ready to show."""

    key: str
    #: What the step is, for staff.
    label: str
    #: The stage the step belongs to (its place on the strip).
    stage: str
    #: ``done``, ``current``, ``blocked``, ``todo`` or ``skipped``
    state: str
    #: Why the step holds the case back (``blocked``): the gate's refusal.
    reason: str | None = None
    #: What stands where, for staff ("3 of 4 records received").
    summary: str | None = None
    #: What the portal says of it, or None.
    patient_text: str | None = None
    #: The patient has something to do for this step (send a document).
    needs_patient: bool = False

    @property
    def is_done(self) -> bool:
        return self.state == DONE


class Context:
    """What a step function gets: the case, its facts (loaded once), its path and helpers."""

    def __init__(self, inquiry: Inquiry, facts: Facts):
        self.inquiry, self.facts = inquiry, facts
        self.path = path_for(inquiry.service)
        self.closed = inquiry.stage == CLOSED
        #: Where the case is: for a closed case, the stage it was closed from.
        self.stage = reopen_stage(inquiry) if self.closed else inquiry.stage

    def position(self, stage: str) -> int:
        """-1 if the case has not reached ``stage``, 0 if it is there, 1 if it is past it."""
        here, there = STAGES.index(self.stage), STAGES.index(stage)
        return (here > there) - (here < there)

    def blocker(self, stage: str):
        """The gate's refusal of the move from ``stage`` to the next stage of the path, or None."""
        if stage not in self.path or self.path.index(stage) + 1 >= len(self.path):
            return None
        return gate_error(self.inquiry, self.path[self.path.index(stage) + 1], self.facts, from_stage=stage)

    def state(self, stage: str, *, done: bool) -> tuple[str, str | None]:
        """The usual state of a step of ``stage`` (and the reason when blocked)."""
        if done:
            return DONE, None
        position = self.position(stage)
        if position < 0:
            return TODO, None
        if position == 0:
            refusal = self.blocker(stage)
            return (BLOCKED, reason_of(refusal)) if refusal is not None else (CURRENT, None)
        return DONE, None


def records_step(ctx: Context) -> Step:
    """The records asked of the patient: received or waived, or still to come."""
    items = ctx.facts.checklist
    to_come = records.outstanding(items)
    required = records.outstanding(items, required_only=True)
    received = sum(1 for item in items if item.is_received)
    waived = sum(1 for item in items if item.is_waived)
    position = ctx.position("records")
    if not items:
        summary = _l("No records asked for yet.")
    elif waived:
        summary = ngettext("%(received)d of %(num)d record received, %(waived)d waived.",
                           "%(received)d of %(num)d records received, %(waived)d waived.",
                           len(items), received=received, waived=waived)
    else:
        summary = ngettext("%(received)d of %(num)d record received.",
                           "%(received)d of %(num)d records received.", len(items), received=received)
    reason = None
    if not items:
        state = TODO if position < 0 else CURRENT if position == 0 else DONE
    elif not required:  # optional records may still come: the case may go on
        state = DONE
    elif position == 0:
        refusal = ctx.blocker("records")
        state, reason = (BLOCKED, reason_of(refusal)) if refusal is not None else (CURRENT, None)
    else:  # asked for early and on their way, or (cases older than the rule) still missing
        state = CURRENT
    if to_come and not ctx.closed:
        text = ngettext("We are waiting for %(num)d document from you. You can send it below.",
                        "We are waiting for %(num)d documents from you. You can send them below.",
                        len(to_come))
    elif items:
        text = _l("We have the documents we asked you for. Thank you!")
    elif position <= 0:
        text = _l("We will let you know which medical documents we need.")
    else:
        text = None
    return Step("records", _l("Records"), "records", state, reason=reason, summary=summary,
                patient_text=text, needs_patient=bool(to_come) and not ctx.closed)


def review_step(ctx: Context) -> Step:
    """The center's physician reviews the records and decides."""
    review = ctx.facts.review
    who = review.reviewer_label if review is not None else ""
    decision = review.decision if review is not None else None
    if review is None:
        summary = _l("No reviewing physician named yet.")
    elif decision is None:
        summary = _l("Reviewing physician: %(name)s. No decision yet.", name=who)
    elif decision == ACCEPT:
        summary = _l("Accepted by %(name)s.", name=who)
    elif decision == DECLINE:
        summary = _l("Declined by %(name)s: %(reason)s", name=who, reason=review.reason)
    else:
        summary = _l("%(name)s asked for more records.", name=who)
    state, reason = ctx.state("clinical_review", done=decision == ACCEPT)
    if state == DONE and decision == ACCEPT:
        text = _l("Our physicians have reviewed your records and accepted your case.")
    elif decision == DECLINE and ctx.position("clinical_review") == 0:
        text = _l("Your care coordinator will be in touch with you about our physicians' review.")
    elif decision == MORE_RECORDS and ctx.position("clinical_review") < 0:
        text = _l("Our physicians would like to see a few more documents before they decide.")
    elif state in (CURRENT, BLOCKED):
        text = _l("Our physicians are reviewing your records.")
    elif state == TODO:
        text = _l("Our physicians will review your records.")
    else:
        text = None
    return Step("review", _l("Clinical review"), "clinical_review", state, reason=reason,
                summary=summary, patient_text=text)


def registration_step(ctx: Context) -> Step:
    """The hospital registers the patient: their medical record number (MRN)."""
    mrn = ctx.inquiry.patient.mrn
    if mrn:
        state, summary = DONE, _l("Medical record number %(mrn)s.", mrn=mrn)
        # the number itself stays off the portal: a forwarded link must not carry it
        text = _l("You are registered at the hospital.")
    elif ctx.closed:
        state, summary, text = SKIPPED, None, None
    elif ctx.position("financial_clearance") >= 0:
        state = CURRENT
        summary = _l("Waiting for the medical record number from the registration center.")
        text = _l("We are registering you at the hospital.")
    else:
        state, summary = TODO, _l("Not registered yet.")
        text = _l("We will register you at the hospital.")
    return Step("registration", _l("Registration"), "financial_clearance", state, summary=summary,
                patient_text=text)


def trial_step(ctx: Context) -> Step | None:
    """The clinical trial the patient asks about, named (only for those who ask)."""
    inquiry = ctx.inquiry
    if not inquiry.wants_trial:
        return None
    named = inquiry.trial_name or inquiry.trial_registry_id
    if inquiry.trial_name and inquiry.trial_registry_id:
        named = _l("%(name)s (%(id)s)", name=inquiry.trial_name, id=inquiry.trial_registry_id)
    if named:
        state, summary = DONE, named
        text = _l("The clinical trial we are looking into with you: %(trial)s.", trial=named)
    else:
        state = TODO if ctx.position("intake") < 0 else CURRENT  # named or not, the case goes on
        summary = _l("The trial is not named yet.")
        text = _l("We are looking into clinical trials that may suit you.")
    return Step("trial", _l("Clinical trial"), "intake", state, summary=summary, patient_text=text)


#: The steps, in order within a stage (see the module's notes to add one).
STEPS: list[Callable[[Context], Step | None]] = [trial_step, records_step, review_step, registration_step]


def journey(inquiry: Inquiry, facts: Facts | None = None) -> list[Step]:
    """Every step of the case, in the order of its stages, each with its state."""
    ctx = Context(inquiry, facts or Facts(inquiry))
    steps = []
    for order, make in enumerate(STEPS):
        step = make(ctx)
        if step is None:
            continue
        if step.stage not in ctx.path or (ctx.closed and step.state != DONE):
            step.state, step.reason, step.needs_patient = SKIPPED, None, False
            if step.stage not in ctx.path:
                step.patient_text = None
        steps.append((STAGES.index(step.stage), order, step))
    return [step for _stage, _order, step in sorted(steps, key=lambda entry: entry[:2])]


def patient_journey(inquiry: Inquiry, facts: Facts | None = None) -> list[Step]:
    """The steps the portal shows: those that concern the patient, in plain words."""
    return [step for step in journey(inquiry, facts) if step.patient_text and step.state != SKIPPED]


# the later steps: financial clearance, appointments, travel, the online opinion
from .care_steps import STEPS as _CARE_STEPS  # noqa: E402

STEPS.extend(_CARE_STEPS)
