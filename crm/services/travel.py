"""The travel plan: arrival and departure, flights, companions with their passports, lodging,
airport pickup, an interpreter, special needs; the patient confirms or corrects it in the
portal. Passport numbers are shown whole only to the coordinators of the case."""
from __future__ import annotations

from collections.abc import Mapping

from babel import Locale
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import force_locale
from ..models import Companion, Inquiry, TravelPlan, User
from ..models.base import utcnow
from ..models.travel import RELATIONSHIPS
from . import audit, conversation, outbox
from .care_fields import clean_date, clean_flag, clean_passport_number, mask
from .errors import StaleVersion, ValidationError, flush_or_conflict
from .validation import clean_birth_date, clean_choice, clean_country, clean_text
from .visibility import as_id

#: Languages an interpreter may be asked for: ISO 639-1 codes, as Babel names them.
INTERPRETER_LANGUAGES = frozenset(code for code in Locale("en").languages if len(code) == 2)
#: What the patient may correct in the portal.
PATIENT_FIELDS = ("arrival_date", "departure_date", "arrival_flight", "departure_flight", "special_needs")
PLAN_TEXTS = {"arrival_flight": 100, "departure_flight": 100, "lodging": 300, "special_needs": 2000,
              "passport_name": 200}


def plan_of(inquiry: Inquiry) -> TravelPlan | None:
    """The case's travel plan with its companions, or None before one is recorded."""
    return db.session.scalar(select(TravelPlan).where(TravelPlan.inquiry_id == inquiry.id)
                             .options(selectinload(TravelPlan.companions), selectinload(TravelPlan.visa_letter)))


def _check_version(plan: TravelPlan | None, expected_version) -> None:
    if plan is None or expected_version in (None, ""):
        return
    try:
        stale = int(expected_version) != plan.version
    except (TypeError, ValueError):
        stale = True
    if stale:
        raise StaleVersion()


def _check_dates(arrival, departure, errors: dict) -> None:
    if arrival and departure and departure < arrival:
        errors["departure_date"] = _l("The departure cannot be before the arrival: check the dates.")


def save_plan(inquiry: Inquiry, data: Mapping, *, actor: User, expected_version=None) -> TravelPlan:
    """Record or change the travel plan; every field is checked before anything is written.
    A blank passport number keeps the one on file (the form never shows it whole). Flushes."""
    plan = plan_of(inquiry)
    _check_version(plan, expected_version)
    errors: dict = {}
    values: dict = {}
    for name in ("arrival_date", "departure_date", "passport_expires_on"):
        values[name] = clean_date(data.get(name), name, errors)
    _check_dates(values["arrival_date"], values["departure_date"], errors)
    for name, size in PLAN_TEXTS.items():
        values[name] = clean_text(data.get(name), name, errors, max_len=size) or ""
    values["is_pickup_needed"] = clean_flag(data.get("pickup_needed"))
    values["is_interpreter_needed"] = clean_flag(data.get("interpreter_needed"))
    language = clean_text(data.get("interpreter_language"), "interpreter_language", errors, max_len=12)
    if values["is_interpreter_needed"] and not language:
        language = inquiry.patient.preferred_language.split("-")[0]
    if language and language not in INTERPRETER_LANGUAGES:
        errors["interpreter_language"] = _l("Choose a language from the list.")
    values["interpreter_language"] = language if values["is_interpreter_needed"] else None
    values["passport_country"] = clean_country(data.get("passport_country"), "passport_country", errors)
    number = clean_passport_number(data.get("passport_number"), "passport_number", errors)
    if number:
        values["passport_number"] = number
    expiry, departure = values["passport_expires_on"], values["departure_date"] or values["arrival_date"]
    if expiry and departure and expiry < departure and "passport_expires_on" not in errors:
        errors["passport_expires_on"] = _l("The passport expires before the trip ends: the patient needs a new one.")
    if errors:
        raise ValidationError(fields=errors)
    now = utcnow()
    if plan is None:
        plan = TravelPlan(inquiry=inquiry, created_at=now, version=1, patient_corrected=[])
        db.session.add(plan)
    else:
        plan.bump_version()
    changed = [name for name, value in values.items() if getattr(plan, name) != value]
    for name, value in values.items():
        setattr(plan, name, value)
    plan.updated_at = inquiry.updated_at = now
    flush_or_conflict(db.session)
    audit.record("change", actor=actor, inquiry=inquiry, detail="travel=" + ",".join(changed)[:180])
    return plan


def _plan_for_companion(inquiry: Inquiry) -> TravelPlan:
    plan = plan_of(inquiry)
    if plan is None:
        plan = TravelPlan(inquiry=inquiry, created_at=utcnow(), version=1, patient_corrected=[])
        db.session.add(plan)
    return plan


def add_companion(inquiry: Inquiry, data: Mapping, *, actor: User) -> Companion:
    """Someone travelling with the patient, with their passport. Flushes."""
    errors: dict = {}
    name = clean_text(data.get("full_name"), "full_name", errors, max_len=200, required=True)
    relation = clean_choice(data.get("relationship"), "relationship", errors, RELATIONSHIPS, required=True)
    born = clean_birth_date(data.get("date_of_birth"), "date_of_birth", errors)
    number = clean_passport_number(data.get("passport_number"), "companion_passport_number", errors)
    country = clean_country(data.get("passport_country"), "companion_passport_country", errors)
    expires = clean_date(data.get("passport_expires_on"), "companion_passport_expires_on", errors)
    if errors:
        raise ValidationError(fields=errors)
    plan = _plan_for_companion(inquiry)
    companion = Companion(plan=plan, full_name=name, relationship_to_patient=relation, date_of_birth=born,
                          passport_number=number, passport_country=country, passport_expires_on=expires)
    db.session.add(companion)
    plan.updated_at = inquiry.updated_at = utcnow()
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"companion={companion.id} added")
    return companion


def remove_companion(inquiry: Inquiry, companion_id, *, actor: User) -> None:
    """Take a companion off the plan. Flushes."""
    plan = plan_of(inquiry)
    companion = db.session.get(Companion, as_id(companion_id))
    if plan is None or companion is None or companion.plan_id != plan.id:
        raise ValidationError("companion", _l("Choose one of the companions on the plan."))
    plan.companions.remove(companion)
    plan.updated_at = inquiry.updated_at = utcnow()
    db.session.flush()
    audit.record("change", actor=actor, inquiry=inquiry, detail=f"companion={companion_id} removed")


# --- passports: who sees them whole -------------------------------------------------------------

def can_see_passports(user: User | None, inquiry: Inquiry) -> bool:
    """The coordinators of the case (assigned to it, or of its center) need the numbers for the
    visa letter; managers and everyone else see them masked."""
    if user is None or not user.is_active or user.role != "coordinator":
        return False
    return inquiry.coordinator_id == user.id or (
        inquiry.center_id is not None and inquiry.center_id in {c.id for c in user.centers})


def shown_number(number: str | None, whole: bool) -> str:
    return (number or "") if whole else mask(number)


# --- telling the patient, and the patient's answer ----------------------------------------------

def plan_rows(plan: TravelPlan, inquiry: Inquiry) -> list[tuple[str, str]]:
    """The plan as (label, value) lines in the current locale, for mail and the portal; passport
    numbers masked."""
    rows = []
    if plan.arrival_date:
        value = format_date(plan.arrival_date, "full")
        rows.append((_("Arrival"), _("%(date)s, flight %(flight)s", date=value, flight=plan.arrival_flight)
                     if plan.arrival_flight else value))
    if plan.departure_date:
        value = format_date(plan.departure_date, "full")
        rows.append((_("Departure"), _("%(date)s, flight %(flight)s", date=value, flight=plan.departure_flight)
                     if plan.departure_flight else value))
    if plan.lodging:
        rows.append((_("Lodging"), plan.lodging))
    rows.append((_("Airport pickup"), _("Yes, someone will meet you at the airport.") if plan.is_pickup_needed
                 else _("Not needed")))
    if plan.is_interpreter_needed:
        rows.append((_("Interpreter"), language_name(plan.interpreter_language)))
    if plan.special_needs:
        rows.append((_("Special needs"), plan.special_needs))
    for companion in plan.companions:
        rows.append((_("Travelling with you"), _("%(name)s (%(relationship)s)", name=companion.full_name,
                                                  relationship=relationship_label(companion.relationship_to_patient))))
    return rows


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse(str(get_locale())).languages.get(code) or code


RELATIONSHIP_LABELS = {"spouse": _l("spouse"), "parent": _l("parent"), "child": _l("child"),
                       "sibling": _l("brother or sister"), "relative": _l("relative"), "friend": _l("friend"),
                       "caregiver": _l("caregiver"), "other": _l("other")}


def relationship_label(code: str) -> str:
    return str(RELATIONSHIP_LABELS.get(code, code))


def send_plan(inquiry: Inquiry, *, actor: User, note: str = ""):
    """Mail the travel plan to the patient in their language (the travel details mail), asking
    them to confirm or correct it on their page. Flushes."""
    plan = plan_of(inquiry)
    if plan is None or not (plan.arrival_date or plan.lodging):
        raise ValidationError("arrival_date", _l("Record at least the arrival or the lodging first."))
    errors: dict = {}
    note = clean_text(note, "travel_plan_note", errors, max_len=2000) or ""
    if errors:
        raise ValidationError(fields=errors)
    conversation.check_reachable(inquiry)
    with force_locale(inquiry.patient.preferred_language):
        rows = plan_rows(plan, inquiry)
        ask = _("Please check these details on your page and confirm them, or correct what is wrong.")
    row = outbox.queue_patient_mail(inquiry, "travel", actor=actor, details=rows,
                                    note="\n\n".join(filter(None, [note, ask])))
    return conversation.mail_sent(inquiry, row, actor=actor, kind="travel")


def confirm_by_patient(inquiry: Inquiry, data: Mapping) -> TravelPlan:
    """The patient confirms the plan in the portal, correcting what is wrong (dates, flights,
    special needs) and saying anything else in a message. Flushes."""
    plan = plan_of(inquiry)
    if plan is None:
        raise ValidationError("arrival_date", _l("There is no travel plan to confirm yet."))
    errors: dict = {}
    values = {"arrival_date": clean_date(data.get("arrival_date"), "arrival_date", errors),
              "departure_date": clean_date(data.get("departure_date"), "departure_date", errors)}
    for name in ("arrival_flight", "departure_flight", "special_needs"):
        values[name] = clean_text(data.get(name), name, errors, max_len=PLAN_TEXTS[name]) or ""
    _check_dates(values["arrival_date"], values["departure_date"], errors)
    message = clean_text(data.get("message"), "message", errors, max_len=4000) or ""
    if errors:
        raise ValidationError(fields=errors)
    now = utcnow()
    corrected = [name for name, value in values.items() if getattr(plan, name) != value]
    for name in corrected:
        setattr(plan, name, values[name])
    plan.patient_confirmed_at = now
    plan.patient_corrected = sorted(set(plan.patient_corrected or []) | set(corrected)) if corrected else []
    plan.bump_version()
    plan.updated_at = inquiry.updated_at = now
    if corrected or message:
        # the coordinator is asked to look: the patient's words join the thread
        if not message:
            with force_locale(inquiry.patient.preferred_language):
                message = _("I have corrected my travel details.")
        conversation.record_patient_message(inquiry, message, channel="portal", kind="travel_reply",
                                            language=inquiry.patient.preferred_language, at=now)
    flush_or_conflict(db.session)
    audit.record("change", actor=None, inquiry=inquiry, origin="portal",
                 detail="travel confirmed" + (" fields=" + ",".join(corrected) if corrected else ""))
    return plan


def visa_letter_problems(plan: TravelPlan | None, inquiry: Inquiry) -> list[str]:
    """Why a visa letter cannot be written yet, in words (empty: it can)."""
    if plan is None:
        return [str(_l("Record the travel plan and the patient's passport first."))]
    problems = []
    if not plan.passport_number or not plan.passport_country:
        problems.append(_l("The patient's passport number and country are missing."))
    if not (plan.passport_name or inquiry.patient.full_name):
        problems.append(_l("The patient's name as in the passport is missing."))
    for companion in plan.companions:
        if not companion.passport_number or not companion.passport_country:
            problems.append(_l("The passport of %(name)s is missing.", name=companion.full_name))
    return [str(p) for p in problems]
