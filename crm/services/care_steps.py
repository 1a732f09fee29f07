"""The journey strip's later steps: financial clearance, appointments, travel and the online
opinion (``journey.STEPS`` lists them), read through the case's facts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from . import care, finance, opinion, travel
from .journey import BLOCKED, CURRENT, DONE, TODO, Context, Step

PAYERS = {"insurance": _l("Insurance"), "sponsor": _l("A sponsor's guarantee letter"),
          "self_pay": _l("Self-pay")}


def _data(ctx: Context) -> dict:
    return ctx.facts.once("care", lambda: care.load(ctx.inquiry, ctx.facts))


def finance_step(ctx: Context) -> Step:
    """Who pays, and whether the case is cleared to be scheduled."""
    clearance = _data(ctx)["clearance"]
    cleared = clearance is not None and clearance.is_cleared
    state, reason = ctx.state("financial_clearance", done=cleared)
    if clearance is None:
        summary = _l("Nobody recorded as paying yet.")
    elif cleared:
        summary = _l("Cleared: %(payer)s.", payer=PAYERS[clearance.payer_type])
    else:
        summary = _l("%(payer)s: not cleared yet.", payer=PAYERS[clearance.payer_type])
    if state == DONE:
        text = _l("The payment of your care is settled.")
    elif state in (CURRENT, BLOCKED):
        text = _l("We are preparing the cost estimate and insurance approval.")
    else:
        text = None
    return Step("finance", _l("Financial clearance"), "financial_clearance", state, reason=reason,
                summary=summary, patient_text=text)


def appointments_step(ctx: Context) -> Step | None:
    """A confirmed appointment (not on the online path: nobody comes to Boston)."""
    if "scheduling" not in ctx.path:
        return None
    visits = [a for a in _data(ctx)["appointments"] if a.is_active]
    confirmed = [a for a in visits if a.state == "confirmed"]
    state, reason = ctx.state("scheduling", done=bool(confirmed))
    if confirmed:
        summary = ngettext("%(num)d appointment confirmed.", "%(num)d appointments confirmed.", len(confirmed))
        text = _l("Your appointments are booked: you find them below.")
    elif visits:
        summary, text = _l("Proposed, not confirmed yet."), _l("We are scheduling your appointments.")
    else:
        summary = _l("No appointment yet.")
        text = _l("We are scheduling your appointments.") if state != TODO else None
    return Step("appointments", _l("Appointments"), "scheduling", state, reason=reason, summary=summary,
                patient_text=text)


def travel_step(ctx: Context) -> Step | None:
    """The travel plan, confirmed by the patient, with the visa letter sent (none online)."""
    if "travel" not in ctx.path:
        return None
    plan = _data(ctx)["plan"]
    confirmed = plan is not None and plan.patient_confirmed_at is not None
    state, reason = ctx.state("travel", done=confirmed)
    if plan is None:
        summary = _l("No travel plan yet.")
        text = _l("We will help you plan your trip.") if state != TODO else None
    else:
        parts = [_l("Confirmed by the patient.") if confirmed else _l("Waiting for the patient to confirm it.")]
        if plan.visa_letter_sent_at:
            parts.append(_l("Visa letter sent."))
        elif travel.visa_letter_problems(plan, ctx.inquiry):
            parts.append(_l("No visa letter yet: passport data missing."))
        summary = " ".join(str(p) for p in parts)
        text = _l("Thank you for confirming your travel details.") if confirmed else \
            _l("Please check your travel details below and confirm them.")
    return Step("travel-plan", _l("Travel"), "travel", state, reason=reason, summary=summary, patient_text=text)


def opinion_step(ctx: Context) -> Step | None:
    """The written opinion, due within the turnaround and sent to the patient."""
    if ctx.inquiry.service != opinion.ONLINE:
        return None
    request = _data(ctx)["opinion"]
    released = request is not None and request.released_at is not None
    state, reason = ctx.state("in_care", done=released)
    turnaround = opinion.turnaround(ctx.inquiry, request)
    if released:
        summary = _l("Sent to the patient.")
        text = _l("Your written second opinion is ready: you can read it below.")
    elif turnaround.due_at is not None:
        summary = _l("Being written; due within %(num)d business days.", num=turnaround.days)
        text = _l("The specialist is writing your opinion.")
    else:
        summary = _l("Not begun yet.")
        text = _l("A specialist will write your opinion once your case is ready.") if state != TODO else None
    return Step("opinion", _l("Written opinion"), "in_care", state, reason=reason, summary=summary,
                patient_text=text)


STEPS = [finance_step, appointments_step, travel_step, opinion_step]
