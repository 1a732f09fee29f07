"""What the case page shows of the journey's later steps: who pays, the appointments, the
travel plan and visa letter, the online second opinion, with their forms (ready data only)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..models import Inquiry
from ..services import care, money
from ..services.centers import active_centers
from ..services.facts import Facts
from ..services.formatting import format_list
from ..services import travel
from ..services.travel import PATIENT_FIELDS
from .forms import (ENTRY_LABELS, PAYER_LABELS, PRECERT_LABELS, SPONSOR_LABELS, AddendumForm, AppointmentBookingForm, CompanionForm, FinanceEntryForm, FinanceForm,
                    OpinionFileForm, OpinionQuestionForm, OpinionRequestForm, TravelPlanForm, TravelSendForm,
                    current_locale)


APPOINTMENT_STATE_LABELS = {"proposed": _l("Proposed"), "confirmed": _l("Confirmed"), "cancelled": _l("Cancelled")}
TURNAROUND_LABELS = {"on_time": _l("On time"), "due_soon": _l("Due soon"), "late": _l("Late"),
                     "delivered": _l("Delivered on time"), "delivered_late": _l("Delivered late")}
ASKED_BY_LABELS = {"patient": _l("asked by the patient"), "physician": _l("asked by the home physician")}
CORRECTED_LABELS = {"arrival_date": _l("arrival date"), "departure_date": _l("departure date"),
                    "arrival_flight": _l("arrival flight"), "departure_flight": _l("departure flight"),
                    "special_needs": _l("special needs")}
if set(CORRECTED_LABELS) != set(PATIENT_FIELDS):  # checked at import, also under python -O
    raise RuntimeError("CORRECTED_LABELS must name each of travel.PATIENT_FIELDS")


def _corrected(names) -> str:
    return format_list([str(CORRECTED_LABELS.get(name, name)) for name in names])


LABELS = {"finance_payer_labels": PAYER_LABELS, "finance_precert_labels": PRECERT_LABELS,
          "finance_sponsor_labels": SPONSOR_LABELS, "finance_entry_labels": ENTRY_LABELS,
          "appointment_state_labels": APPOINTMENT_STATE_LABELS, "turnaround_labels": TURNAROUND_LABELS,
          "addendum_asked_labels": ASKED_BY_LABELS, "travel_language": travel.language_name,
          "travel_relationship": travel.relationship_label, "travel_corrected_labels": _corrected}


def loaded(inquiry: Inquiry, facts: Facts) -> dict:
    """The journey's data of the case, loaded once through ``facts`` (the timeline reads it too)."""
    return care.load(inquiry, facts)


def context(inquiry: Inquiry, facts: Facts, forms: dict) -> dict:
    """The journey cards' data and forms; ``forms`` holds a submitted form to show again with
    its errors."""
    data = loaded(inquiry, facts)
    ready = care.case_context(inquiry, current_user, data)
    clearance, plan, request = data["clearance"], data["plan"], data["opinion"]
    finance_form = forms.get("finance_form") or FinanceForm(formdata=None, **_finance_values(clearance))
    appointment_form = forms.get("appointment_form") or AppointmentBookingForm(formdata=None)
    appointment_form.set_centers(active_centers(), current_locale(), default=inquiry.center)
    plan_form = forms.get("plan_form") or TravelPlanForm(formdata=None, **_plan_values(plan))
    opinion_form = forms.get("opinion_form") or OpinionRequestForm(
        formdata=None, physician_questions=request.physician_questions if request else "",
        specialist_name=request.specialist_name if request else "", specialty=request.specialty if request else "")
    addendum_form = forms.get("addendum_form") or AddendumForm(formdata=None)
    addendum_form.addendum.choices = [(str(a.id), a.question[:80]) for a in (request.addenda if request else [])
                                      if a.answered_at is None]
    return {**ready, **LABELS, "finance_form": finance_form,
            "entry_form": forms.get("entry_form") or FinanceEntryForm(formdata=None),
            "appointment_form": appointment_form, "plan_form": plan_form,
            "companion_form": forms.get("companion_form") or CompanionForm(formdata=None),
            "travel_send_form": forms.get("travel_send_form") or TravelSendForm(formdata=None),
            "opinion_form": opinion_form, "opinion_file_form": forms.get("opinion_file_form") or OpinionFileForm(formdata=None),
            "question_form": forms.get("question_form") or OpinionQuestionForm(formdata=None),
            "addendum_form": addendum_form}


def _finance_values(clearance) -> dict:
    if clearance is None:
        return {}
    billing = money.billing_currency()

    def amount(minor, currency):
        return str(money.to_major(minor, currency)) if minor is not None and currency else ""

    return {"payer_type": clearance.payer_type, "insurer": clearance.insurer, "plan_name": clearance.plan_name,
            "precert_required": "unknown" if clearance.is_precert_required is None
            else ("yes" if clearance.is_precert_required else "no"),
            "precert_status": clearance.precert_status, "precert_reference": clearance.precert_reference,
            "sponsor_kind": clearance.sponsor_kind, "sponsor_name": clearance.sponsor_name,
            "guarantee_amount": amount(clearance.guarantee_amount_minor, clearance.guarantee_currency),
            "guarantee_currency": clearance.guarantee_currency,
            "guarantee_valid_from": clearance.guarantee_valid_from.isoformat() if clearance.guarantee_valid_from else "",
            "guarantee_valid_until": clearance.guarantee_valid_until.isoformat()
            if clearance.guarantee_valid_until else "",
            "estimate": amount(clearance.estimate_minor, billing), "deposit": amount(clearance.deposit_minor, billing),
            "patient_currency": clearance.patient_currency,
            "assistance_requested": clearance.is_assistance_requested, "assistance_note": clearance.assistance_note,
            "version": clearance.version}


def _plan_values(plan) -> dict:
    if plan is None:
        return {}
    return {"arrival_date": plan.arrival_date.isoformat() if plan.arrival_date else "",
            "departure_date": plan.departure_date.isoformat() if plan.departure_date else "",
            "arrival_flight": plan.arrival_flight, "departure_flight": plan.departure_flight, "lodging": plan.lodging,
            "pickup_needed": plan.is_pickup_needed, "interpreter_needed": plan.is_interpreter_needed,
            "interpreter_language": plan.interpreter_language or "", "special_needs": plan.special_needs,
            "passport_name": plan.passport_name, "passport_number": "",  # never echoed: blank keeps it
            "passport_country": plan.passport_country or "",
            "passport_expires_on": plan.passport_expires_on.isoformat() if plan.passport_expires_on else "",
            "version": plan.version}
