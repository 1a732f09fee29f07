"""What the case page shows of the journey's later steps: who pays, the appointments, the
travel plan and visa letter, the online second opinion, with their forms (ready data only)."""
from __future__ import annotations

from babel.numbers import get_currency_name
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..models import Inquiry
from ..services import care, finance, money
from ..services.facts import Facts
from ..services.formatting import format_list
from ..services import travel
from ..services.travel import PATIENT_FIELDS
from .forms import (ENTRY_LABELS, PAYER_LABELS, PRECERT_LABELS, SPONSOR_LABELS, AddendumForm, CompanionForm,
                    FinanceEntryForm, FinanceForm, OpinionFileForm, OpinionQuestionForm, OpinionRequestForm,
                    TravelPlanForm, TravelSendForm)


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
    """The journey cards' data and their small forms; ``forms`` holds a submitted form to show
    again with its errors. Who pays, the travel plan, a companion and an appointment are recorded
    on pages of their own (``finance_page``, ``plan_page``, ``companion_page``, the booking page):
    the cards show what is recorded."""
    data = loaded(inquiry, facts)
    ready = care.case_context(inquiry, current_user, data)
    request = data["opinion"]
    opinion_form = forms.get("opinion_form") or OpinionRequestForm(
        formdata=None, physician_questions=request.physician_questions if request else "",
        specialist_name=request.specialist_name if request else "", specialty=request.specialty if request else "")
    addendum_form = forms.get("addendum_form") or AddendumForm(formdata=None)
    addendum_form.addendum.choices = [(str(a.id), a.question[:80]) for a in (request.addenda if request else [])
                                      if a.answered_at is None]
    return {**ready, **LABELS,
            "entry_form": forms.get("entry_form") or FinanceEntryForm(formdata=None),
            "travel_send_form": forms.get("travel_send_form") or TravelSendForm(formdata=None),
            "opinion_form": opinion_form, "opinion_file_form": forms.get("opinion_file_form") or OpinionFileForm(formdata=None),
            "question_form": forms.get("question_form") or OpinionQuestionForm(formdata=None),
            "addendum_form": addendum_form}


def finance_page(inquiry: Inquiry, form: FinanceForm | None = None) -> dict:
    """The page that records who pays: the form filled with what is on file (or ``form`` as
    submitted, with its errors)."""
    clearance = finance.clearance_of(inquiry)
    return {"inquiry": inquiry, "patient": inquiry.patient, "clearance": clearance,
            "form": form or FinanceForm(formdata=None, **_finance_values(clearance)),
            "currencies": _likely_currencies(inquiry.patient.country)}


def _likely_currencies(country: str | None) -> list[tuple[str, str]]:
    """Suggestions for the currency fields: the patient's country's, the billing currency, then
    those the rate table converts (any ISO 4217 code may still be typed)."""
    codes = [money.currency_of_country(country), money.billing_currency(), *sorted(money.rate_table().rates)]
    seen = dict.fromkeys(code for code in codes if code and money.is_known_currency(code))
    return [(code, get_currency_name(code, locale=get_locale())) for code in seen]


def plan_page(inquiry: Inquiry, form: TravelPlanForm | None = None) -> dict:
    """The page that records the travel plan and the patient's passport."""
    plan = travel.plan_of(inquiry)
    if form is None:
        form = TravelPlanForm(formdata=None, patient=inquiry.patient, **_plan_values(plan))
    return {"inquiry": inquiry, "patient": inquiry.patient, "plan": plan, "form": form}


def companion_page(inquiry: Inquiry, form: CompanionForm | None = None) -> dict:
    """The page that adds someone travelling with the patient."""
    return {"inquiry": inquiry, "patient": inquiry.patient,
            "form": form or CompanionForm(formdata=None, patient=inquiry.patient)}


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
