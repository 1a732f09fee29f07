"""The journey's later steps on one page: money, appointments, travel and the online opinion,
loaded once for the case page, the portal and the timeline (a fixed number of queries)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Inquiry, User
from . import appointments, finance, money, opinion, travel
from .facts import Facts
from .formatting import local_time
from .pipeline import path_for

ONLINE = opinion.ONLINE


def load(inquiry: Inquiry, facts: Facts | None = None) -> dict:
    """The case's clearance, appointments, travel plan and opinion request (None when absent),
    each loaded once through ``facts`` (the gates and the journey strip read the same)."""
    facts = facts or Facts(inquiry)
    visits = facts.once("appointments", lambda: appointments.appointments_of(inquiry))
    return {"clearance": facts.once("clearance", lambda: finance.clearance_of(inquiry)), "appointments": visits,
            "visit": appointments.first_visit(visits), "plan": facts.once("plan", lambda: travel.plan_of(inquiry)),
            "opinion": facts.once("opinion", lambda: opinion.opinion_of(inquiry))}


def case_context(inquiry: Inquiry, user: User, loaded: dict | None = None) -> dict:
    """Ready data for the journey's cards on the case page."""
    data = loaded or load(inquiry)
    path = path_for(inquiry.service)
    plan = data["plan"]
    whole = travel.can_see_passports(user, inquiry)
    return {
        "care": data,
        "care_paths": {"scheduling": "scheduling" in path, "travel": "travel" in path,
                       "online": inquiry.service == ONLINE, "opinion": inquiry.service == ONLINE or (
                           data["opinion"] is not None and data["opinion"].converted_at is not None)},
        "finance": finance.summary(data["clearance"], inquiry, data["visit"]),
        "billing_currency": money.billing_currency(),
        "passports_whole": whole,
        # masked on the case page for everyone: the case's coordinators open them whole on a
        # page of their own, which the audit trail records
        "passport_numbers": {"patient": travel.shown_number(plan.passport_number, False) if plan else "",
                             "companions": {c.id: travel.shown_number(c.passport_number, False)
                                            for c in plan.companions} if plan else {}},
        "visa_problems": travel.visa_letter_problems(plan, inquiry),
        "turnaround": opinion.turnaround(inquiry, data["opinion"]),
    }


def portal_context(inquiry: Inquiry, facts: Facts | None = None) -> dict:
    """Ready data for the patient's page: appointments to come, the travel plan to confirm, the
    estimate, the opinion to read."""
    data = load(inquiry, facts)
    plan, clearance = data["plan"], data["clearance"]
    path = path_for(inquiry.service)
    documents = opinion.readable_documents(inquiry, data["opinion"])
    if plan is not None and plan.visa_letter is not None and plan.visa_letter_sent_at is not None:
        documents = documents + [plan.visa_letter]
    return {
        "care_appointments": [a for a in data["appointments"] if a.is_active],
        "care_plan": plan if "travel" in path else None,
        "care_plan_rows": travel.plan_rows(plan, inquiry) if plan is not None and "travel" in path else [],
        "care_passport": travel.shown_number(plan.passport_number, False) if plan else "",
        "care_finance": finance.summary(clearance, inquiry, data["visit"])
        if clearance is not None and clearance.payer_type == "self_pay" and clearance.estimate_minor else None,
        "care_opinion": data["opinion"] if inquiry.service == ONLINE or documents else None,
        "care_documents": documents,
    }


def timeline_entries(inquiry: Inquiry, loaded: dict | None = None) -> list[dict]:
    """What happened in these steps, as timeline entries (``kind`` ``care``, a ready sentence in
    the reader's language)."""
    data = loaded or load(inquiry)
    raw: list[tuple] = []  # (at, actor id, text, id)
    clearance = data["clearance"]
    if clearance is not None:
        if clearance.cleared_at:
            raw.append((clearance.cleared_at, clearance.cleared_by_id, _("Financial clearance given."), f"fc{clearance.id}"))
        billing = money.billing_currency()
        texts = {"payment": _("Payment received: %(amount)s"), "refund": _("Refund made: %(amount)s"),
                 "top_up": _("Care added to the estimate: %(amount)s"), "final_charges": _("Final charges: %(amount)s")}
        for entry in clearance.entries:
            raw.append((entry.created_at, entry.actor_id,
                        texts[entry.kind] % {"amount": money.format_money(entry.amount_minor, billing)}, f"fe{entry.id}"))
    for visit in data["appointments"]:
        when = local_time(visit.starts_at, "short")
        if visit.confirmed_at is None or visit.confirmed_at - visit.created_at > timedelta(minutes=1):
            raw.append((visit.created_at, visit.created_by_id, _("Appointment proposed: %(when)s", when=when),
                        f"ap{visit.id}"))
        if visit.confirmed_at:
            raw.append((visit.confirmed_at, visit.confirmed_by_id,
                        _("Appointment confirmed and sent to the patient: %(when)s", when=when), f"ac{visit.id}"))
        if visit.cancelled_at:
            raw.append((visit.cancelled_at, visit.cancelled_by_id, _("Appointment cancelled: %(when)s", when=when),
                        f"ax{visit.id}"))
    plan = data["plan"]
    if plan is not None:
        if plan.patient_confirmed_at:
            raw.append((plan.patient_confirmed_at, None, _("The patient confirmed the travel plan.") if not plan.patient_corrected
                        else _("The patient confirmed the travel plan, with corrections."), f"tp{plan.id}"))
        if plan.visa_letter_sent_at:
            raw.append((plan.visa_letter_sent_at, None, _("Visa invitation letter sent to the patient."), f"tv{plan.id}"))
    request = data["opinion"]
    if request is not None:
        if request.released_at:
            raw.append((request.released_at, request.released_by_id, _("Written opinion sent to the patient."),
                        f"or{request.id}"))
        for addendum in request.addenda:
            raw.append((addendum.asked_at, None, _("Follow-up question on the opinion.") if addendum.asked_by == "patient"
                        else _("Follow-up question from the home physician."), f"oq{addendum.id}"))
            if addendum.answered_at:
                raw.append((addendum.answered_at, addendum.answered_by_id, _("Addendum to the opinion sent to the patient."),
                            f"oa{addendum.id}"))
        if request.converted_at:
            raw.append((request.converted_at, request.converted_by_id,
                        _("Turned into an in-person second opinion: the patient will come to Boston."), f"oc{request.id}"))
    ids = {actor for _at, actor, _text, _id in raw if actor}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [{"kind": "care", "at": at, "actor": actors.get(actor), "text": text, "id": key}
            for at, actor, text, key in raw]
