"""Forms to register and edit an inquiry, move it, and leave a note (shape only: the
services hold every rule)."""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from babel import Locale
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import DateField, EmailField, TelField, TimeField
from wtforms.validators import Optional

from .. import labels
from ..i18n import LANGUAGE_LABELS, NATIVE_NAMES
from ..admin.forms import MultiCheckboxField
from ..models.inquiry import SERVICES
from ..models.mail import RECORD_ITEMS
from ..models.patient import SEXES
from ..services.pipeline import OUTCOMES
from ..services.validation import COUNTRY_CODES

_TIMEZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
LONG = {"maxlength": 5000, "rows": 5}


@lru_cache(maxsize=16)
def _countries(locale: str) -> tuple:
    """The countries named and sorted in ``locale``: worked out once per locale, not per form."""
    names = Locale.parse(locale).territories
    return tuple(sorted(((code, names.get(code, code)) for code in COUNTRY_CODES), key=lambda c: c[1]))


def country_choices(blank=True, first=None):
    """The countries in the reader's language; ``first`` (a country code, e.g. where the patient
    lives) heads the list in a group of its own."""
    countries = _countries(str(get_locale()))
    choices = [SelectChoice("", _l("— Choose —"))] if blank else []
    likely = next((name for code, name in countries if code == first), None) if first else None
    if likely is None:
        return choices + [SelectChoice(code, name) for code, name in countries]
    everywhere = _("All countries")
    return (choices + [SelectChoice(first, likely, optgroup=_("The patient's country"))]
            + [SelectChoice(code, name, optgroup=everywhere) for code, name in countries if code != first])


@lru_cache(maxsize=16)
def _interpreter_languages(locale: str) -> tuple:
    from ..services.travel import INTERPRETER_LANGUAGES
    names = Locale.parse(locale).languages
    return tuple(sorted(((code, names.get(code, code)) for code in INTERPRETER_LANGUAGES), key=lambda c: c[1]))


def interpreter_language_choices(patient_language: str | None):
    """The languages an interpreter may be asked for: the patient's own (the default) first, then
    the languages the center works in, then every other ISO 639-1 language."""
    languages = _interpreter_languages(str(get_locale()))
    names = dict(languages)
    own = (patient_language or "en").split("-")[0]
    common = [code.split("-")[0] for code in LANGUAGE_LABELS]
    default = (_("The patient's language (%(language)s)", language=names[own]) if own in names
               else _("The patient's language"))
    center, others = _("The center's languages"), _("All languages")
    return ([SelectChoice("", default)]
            + [SelectChoice(code, names[code], optgroup=center)
               for code in sorted((c for c in common if c in names), key=names.get)]
            + [SelectChoice(code, name, optgroup=others) for code, name in languages if code not in common])


def language_choices():
    return [(code, f"{NATIVE_NAMES[code]} — {label}") for code, label in LANGUAGE_LABELS.items()]


class PatientFieldsForm(FlaskForm):
    """The patient's fields, as the contract names them."""

    given_name = StringField(_l("Given name"), render_kw={"maxlength": 100, "autocomplete": "given-name"})
    family_name = StringField(_l("Family name"), render_kw={"maxlength": 100, "autocomplete": "family-name"})
    email = EmailField(_l("Email"), render_kw={"maxlength": 254, "autocomplete": "email"})
    phone = TelField(_l("Phone (with country code)"), render_kw={"maxlength": 32, "autocomplete": "tel",
                                                                   "placeholder": "+1 617 555 0100"})
    date_of_birth = StringField(_l("Date of birth"), render_kw={"type": "date"})
    sex = SelectField(_l("Sex"), validate_choice=False)
    country = SelectField(_l("Country of residence"), validate_choice=False)
    preferred_language = SelectField(_l("Preferred language"), validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sex.choices = [("", _l("— Choose —"))] + [(s, labels.SEX_LABELS[s]) for s in SEXES]
        self.country.choices = country_choices()
        self.preferred_language.choices = language_choices()
        self.timezone.choices = [("", _l("— Choose —"))] + [(z, z.replace("_", " ")) for z in _TIMEZONES]

    def patient_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "given_name", "family_name", "email", "phone", "date_of_birth", "sex", "country",
            "preferred_language", "timezone")}


class CaseFieldsForm(FlaskForm):
    """The inquiry's own fields."""

    service = SelectField(_l("Service requested"), validate_choice=False)
    center = SelectField(_l("Center"), validate_choice=False)
    coordinator_id = SelectField(_l("Coordinator"), validate_choice=False)
    reason = TextAreaField(_l("Reason for the request"), render_kw=LONG)
    referring_name = StringField(_l("Referring physician"), render_kw={"maxlength": 120})
    referring_email = EmailField(_l("Physician's email"), render_kw={"maxlength": 254})
    referring_institution = StringField(_l("Physician's institution"), render_kw={"maxlength": 200})
    referring_country = SelectField(_l("Physician's country"), validate_choice=False)

    def set_choices(self, centers, coordinators, locale):
        self.service.choices = [("", _l("— Choose —"))] + [(s, labels.SERVICE_LABELS[s]) for s in SERVICES]
        self.center.choices = [("", _l("Not routed yet"))] + [(c.key, c.name_in(locale)) for c in centers]
        self.coordinator_id.choices = [("", _l("Nobody yet"))] + [(str(u.id), u.name) for u in coordinators]
        self.referring_country.choices = country_choices()

    def case_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "service", "center", "coordinator_id", "reason", "referring_name", "referring_email",
            "referring_institution", "referring_country")}


class InquiryCreateForm(PatientFieldsForm, CaseFieldsForm):
    """Register an inquiry that came by phone, in person or by referral letter."""

    source = SelectField(_l("How did it reach us?"), validate_choice=False)
    mrn = StringField(_l("Medical record number"), render_kw={"maxlength": 20})
    submit = SubmitField(_l("Register inquiry"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = [(s, labels.SOURCE_LABELS[s]) for s in ("phone", "referral", "email",
                                                                        "web_form")]


class InquiryEditForm(CaseFieldsForm):
    version = HiddenField()
    submit = SubmitField(_l("Save changes"))


class PatientEditForm(PatientFieldsForm):
    mrn = StringField(_l("Medical record number"), render_kw={"maxlength": 20})
    version = HiddenField()
    submit = SubmitField(_l("Save changes"))


class TransitionForm(FlaskForm):
    to = HiddenField()
    version = HiddenField()
    outcome = SelectField(_l("Outcome"), validate_choice=False)
    # the length rule, with its message, is the pipeline's
    note = TextAreaField(_l("Note (optional)"), id="move_note", render_kw={"maxlength": 4000, "rows": 2})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [("", _l("— Choose —"))] + [(o, labels.OUTCOME_LABELS[o]) for o in OUTCOMES]


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), id="note_body", render_kw={"maxlength": 5000, "rows": 3})
    submit = SubmitField(_l("Add note"))


def current_locale() -> str:
    return str(get_locale())


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Message to the patient"), id="reply_body", render_kw={"maxlength": 10000, "rows": 5, "dir": "auto"})
    submit = SubmitField(_l("Send to the patient"))


class RecordsRequestForm(FlaskForm):
    items = MultiCheckboxField(_l("Records to ask for"), validate_choice=False)
    note = TextAreaField(_l("A word for the patient (optional)"), id="records_note", render_kw={"maxlength": 2000, "rows": 2, "dir": "auto"})
    submit = SubmitField(_l("Ask the patient"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items.choices = [(key, labels.RECORD_ITEM_LABELS[key]) for key in RECORD_ITEMS]


class AppointmentForm(FlaskForm):
    date = DateField(_l("Date"), validators=[Optional()])
    time = TimeField(_l("Time (Boston)"), validators=[Optional()])
    location = StringField(_l("Where"), render_kw={"maxlength": 300})
    clinician = StringField(_l("With (physician or department)"), render_kw={"maxlength": 200})
    note = TextAreaField(_l("A word for the patient (optional)"), id="appointment_note", render_kw={"maxlength": 2000, "rows": 2, "dir": "auto"})
    submit = SubmitField(_l("Send the appointment"))


class TravelForm(FlaskForm):
    visa_letter = StringField(_l("Visa invitation letter"), render_kw={"maxlength": 300})
    arrival = StringField(_l("Arrival"), render_kw={"maxlength": 300})
    lodging = StringField(_l("Lodging"), render_kw={"maxlength": 300})
    airport_pickup = StringField(_l("Airport pickup"), render_kw={"maxlength": 300})
    interpreter = StringField(_l("Interpreter"), render_kw={"maxlength": 300})
    note = TextAreaField(_l("A word for the patient (optional)"), id="travel_note", render_kw={"maxlength": 2000, "rows": 2, "dir": "auto"})
    submit = SubmitField(_l("Send the travel details"))


class WaiveForm(FlaskForm):
    """Waive one record of the checklist (the record is the URL's)."""

    reason = TextAreaField(_l("Why the case can go on without it"), render_kw={"maxlength": 500, "rows": 2})
    submit = SubmitField(_l("Waive"))


class ReviewForm(FlaskForm):
    """The reviewing physician and, once given, their decision."""

    reviewer_id = SelectField(_l("Reviewing physician"), validate_choice=False)
    reviewer_name = StringField(_l("Or a physician without an account (name, department)"),
                                render_kw={"maxlength": 200})
    decision = SelectField(_l("Decision"), validate_choice=False)
    reason = TextAreaField(_l("Reason or what the physician wants to see"), id="review_reason",
                           render_kw={"maxlength": 4000, "rows": 3, "dir": "auto"})
    items = MultiCheckboxField(_l("Records to ask the patient for"), id="review_items", validate_choice=False)
    version = HiddenField()
    submit = SubmitField(_l("Save the review"))

    def set_choices(self, reviewers, *, decisions: bool):
        self.reviewer_id.choices = [("", _l("— Choose —"))] + [(str(u.id), u.name) for u in reviewers]
        self.decision.choices = [("", _l("No decision yet"))] + (
            [(key, label) for key, label in labels.REVIEW_DECISION_LABELS.items()] if decisions else [])
        self.items.choices = [(key, labels.RECORD_ITEM_LABELS[key]) for key in RECORD_ITEMS]


class MrnForm(FlaskForm):
    """The medical record number the registration center issued."""

    mrn = StringField(_l("Medical record number"), id="register_mrn", render_kw={"maxlength": 20,
                                                                                 "inputmode": "numeric",
                                                                                 "autocomplete": "off"})
    version = HiddenField()
    submit = SubmitField(_l("Save the number"))


class TrialForm(FlaskForm):
    """The clinical trial the patient asks about."""

    interested = BooleanField(_l("The patient is interested in a clinical trial"))
    trial_name = StringField(_l("Trial (as the patient or their physician names it)"),
                             render_kw={"maxlength": 300, "dir": "auto"})
    trial_registry_id = StringField(_l("Registry id (optional)"),
                                    render_kw={"maxlength": 32, "placeholder": "NCT01234567",
                                               "autocomplete": "off"})
    version = HiddenField()
    submit = SubmitField(_l("Save the trial"))


# --- the journey's later steps: money, appointments, travel, the online opinion (issue 13, part B) ---
# Each form has a prefix: the case page holds them all, and every field id must be unique there.

from flask_wtf.file import FileField  # noqa: E402
from wtforms import BooleanField, IntegerField  # noqa: E402

from ..models.finance import ENTRY_KINDS, PAYER_TYPES, PRECERT_STATUSES, SPONSOR_KINDS  # noqa: E402
from ..models.travel import RELATIONSHIPS  # noqa: E402

DATE = {"type": "date"}
PAYER_LABELS = {"insurance": _l("Insurance"), "sponsor": _l("A sponsor's guarantee letter"),
                "self_pay": _l("The patient pays (self-pay)")}
PRECERT_LABELS = {"not_requested": _l("Not requested yet"), "requested": _l("Requested, waiting"),
                  "approved": _l("Approved"), "denied": _l("Denied")}
SPONSOR_LABELS = {"embassy": _l("An embassy"), "ministry": _l("A ministry of health"),
                  "employer": _l("An employer")}
ENTRY_LABELS = {"payment": _l("Payment received"), "top_up": _l("Care added (top-up)"),
                "final_charges": _l("Final charges (reconciliation)"), "refund": _l("Refund made")}


class FinanceForm(FlaskForm):
    """Who pays: one of the three payer types and its fields."""

    payer_type = SelectField(_l("Who pays"), validate_choice=False)
    insurer = StringField(_l("Insurer"), render_kw={"maxlength": 200})
    plan_name = StringField(_l("Plan"), render_kw={"maxlength": 200})
    precert_required = SelectField(_l("Precertification required?"), validate_choice=False)
    precert_status = SelectField(_l("Precertification status"), validate_choice=False)
    precert_reference = StringField(_l("Precertification reference"), render_kw={"maxlength": 100})
    sponsor_kind = SelectField(_l("Sponsor"), validate_choice=False)
    sponsor_name = StringField(_l("Sponsor's name"), render_kw={"maxlength": 200})
    guarantee_file = FileField(_l("Guarantee letter (PDF or image)"))
    guarantee_amount = StringField(_l("Amount guaranteed"), render_kw={"maxlength": 20, "inputmode": "decimal"})
    guarantee_currency = StringField(_l("Currency of the letter (ISO code)"),
                                     render_kw={"maxlength": 3, "placeholder": "USD", "autocapitalize": "characters",
                                                "list": "currencies", "autocomplete": "off"})
    guarantee_valid_from = StringField(_l("Valid from"), render_kw=DATE)
    guarantee_valid_until = StringField(_l("Valid until"), render_kw=DATE)
    estimate = StringField(_l("Estimate (USD)"), render_kw={"maxlength": 20, "inputmode": "decimal"})
    deposit = StringField(_l("Deposit (USD)"), render_kw={"maxlength": 20, "inputmode": "decimal"})
    patient_currency = StringField(_l("Also show in (currency code)"),
                                   render_kw={"maxlength": 3, "placeholder": "EUR", "autocapitalize": "characters",
                                              "list": "currencies", "autocomplete": "off"})
    assistance_requested = BooleanField(_l("The patient asks for financial assistance"))
    assistance_note = TextAreaField(_l("About the assistance asked for"), render_kw={"maxlength": 2000, "rows": 2})
    version = HiddenField()
    submit = SubmitField(_l("Save who pays"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "fin")
        super().__init__(*args, **kwargs)
        self.payer_type.choices = [("", _l("— Choose —"))] + [(p, PAYER_LABELS[p]) for p in PAYER_TYPES]
        self.precert_required.choices = [("unknown", _l("Not known yet")), ("yes", _l("Yes")), ("no", _l("No"))]
        self.precert_status.choices = [(s, PRECERT_LABELS[s]) for s in PRECERT_STATUSES]
        self.sponsor_kind.choices = [("", _l("— Choose —"))] + [(k, SPONSOR_LABELS[k]) for k in SPONSOR_KINDS]

    def finance_data(self) -> dict:
        names = ("payer_type", "insurer", "plan_name", "precert_required", "precert_status", "precert_reference",
                 "sponsor_kind", "sponsor_name", "guarantee_amount", "guarantee_currency", "guarantee_valid_from",
                 "guarantee_valid_until", "estimate", "deposit", "patient_currency", "assistance_requested",
                 "assistance_note")
        return {name: getattr(self, name).data for name in names}


class FinanceEntryForm(FlaskForm):
    """A line of the self-pay ledger."""

    kind = SelectField(_l("What"), validate_choice=False)
    amount = StringField(_l("Amount (USD)"), render_kw={"maxlength": 20, "inputmode": "decimal"})
    entry_note = StringField(_l("Note (optional)"), render_kw={"maxlength": 300})
    submit = SubmitField(_l("Add to the ledger"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "ledger")
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, ENTRY_LABELS[k]) for k in ENTRY_KINDS]


class AppointmentBookingForm(AppointmentForm):
    """The appointment form of the conversation card, as data: where, with whom, and whether it
    is sent at once (confirmed) or kept as proposed."""

    center = SelectField(_l("Center"), id="appointment_center", validate_choice=False)
    duration = IntegerField(_l("Length (minutes)"), default=60, validators=[Optional()],
                            render_kw={"min": 10, "max": 480, "step": 5})
    propose = SubmitField(_l("Keep as proposed (not sent yet)"))

    def set_centers(self, centers, locale, default=None):
        self.center.choices = [(c.key, c.name_in(locale)) for c in centers]
        if not self.center.data and default is not None:
            self.center.data = default.key


class TravelPlanForm(FlaskForm):
    """The travel plan and the patient's passport."""

    arrival_date = StringField(_l("Arrival date"), render_kw=DATE)
    arrival_flight = StringField(_l("Arrival flight"), render_kw={"maxlength": 100, "placeholder": "LH 422"})
    departure_date = StringField(_l("Departure date"), render_kw=DATE)
    departure_flight = StringField(_l("Departure flight"), render_kw={"maxlength": 100})
    lodging = StringField(_l("Lodging"), id="trip-lodging", render_kw={"maxlength": 300})
    pickup_needed = BooleanField(_l("Airport pickup"))
    interpreter_needed = BooleanField(_l("Interpreter needed"))
    interpreter_language = SelectField(_l("Interpreter's language"), validate_choice=False)
    special_needs = TextAreaField(_l("Special needs (wheelchair, diet, oxygen…)"),
                                  render_kw={"maxlength": 2000, "rows": 2, "dir": "auto"})
    passport_name = StringField(_l("Patient's name as in the passport"), render_kw={"maxlength": 200})
    passport_number = StringField(_l("Patient's passport number"),
                                  render_kw={"maxlength": 24, "autocomplete": "off", "spellcheck": "false"})
    passport_country = SelectField(_l("Passport issued by"), validate_choice=False)
    passport_expires_on = StringField(_l("Passport valid until"), render_kw=DATE)
    version = HiddenField()
    submit = SubmitField(_l("Save the travel plan"))

    def __init__(self, *args, patient=None, **kwargs):
        kwargs.setdefault("prefix", "trip")
        super().__init__(*args, **kwargs)
        self.interpreter_language.choices = interpreter_language_choices(
            patient.preferred_language if patient else None)
        self.passport_country.choices = country_choices(first=patient.country if patient else None)

    def plan_data(self) -> dict:
        names = ("arrival_date", "arrival_flight", "departure_date", "departure_flight", "lodging", "pickup_needed",
                 "interpreter_needed", "interpreter_language", "special_needs", "passport_name", "passport_number",
                 "passport_country", "passport_expires_on")
        return {name: getattr(self, name).data for name in names}


RELATIONSHIP_CHOICES = {"spouse": _l("Spouse"), "parent": _l("Parent"), "child": _l("Child"),
                        "sibling": _l("Brother or sister"), "relative": _l("Other relative"), "friend": _l("Friend"),
                        "caregiver": _l("Caregiver"), "other": _l("Other")}


class CompanionForm(FlaskForm):
    """Someone travelling with the patient."""

    full_name = StringField(_l("Name as in the passport"), render_kw={"maxlength": 200})
    relationship = SelectField(_l("Relationship to the patient"), validate_choice=False)
    date_of_birth = StringField(_l("Date of birth"), render_kw=DATE)
    passport_number = StringField(_l("Passport number"), render_kw={"maxlength": 24, "autocomplete": "off"})
    passport_country = SelectField(_l("Passport issued by"), validate_choice=False)
    passport_expires_on = StringField(_l("Passport valid until"), render_kw=DATE)
    submit = SubmitField(_l("Add the companion"))

    def __init__(self, *args, patient=None, **kwargs):
        kwargs.setdefault("prefix", "companion")
        super().__init__(*args, **kwargs)
        self.relationship.choices = [("", _l("— Choose —"))] + [(r, RELATIONSHIP_CHOICES[r]) for r in RELATIONSHIPS]
        self.passport_country.choices = country_choices(first=patient.country if patient else None)


class TravelSendForm(FlaskForm):
    travel_plan_note = TextAreaField(_l("A word for the patient (optional)"),
                                     render_kw={"maxlength": 2000, "rows": 2, "dir": "auto"})
    submit = SubmitField(_l("Send the plan to the patient to confirm"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "tripmail")
        super().__init__(*args, **kwargs)


class OpinionRequestForm(FlaskForm):
    """The home physician's questions and the specialist they decide on."""

    physician_questions = TextAreaField(_l("The home physician's questions"),
                                        render_kw={"maxlength": 10000, "rows": 4, "dir": "auto"})
    specialist_name = StringField(_l("Reviewing specialist"), render_kw={"maxlength": 200})
    specialty = StringField(_l("Specialty"), render_kw={"maxlength": 200})
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "opinion")
        super().__init__(*args, **kwargs)


class OpinionFileForm(FlaskForm):
    file = FileField(_l("The written opinion (PDF)"))
    submit = SubmitField(_l("Upload the opinion"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "opfile")
        super().__init__(*args, **kwargs)


class OpinionQuestionForm(FlaskForm):
    question = TextAreaField(_l("The home physician's follow-up question"),
                             render_kw={"maxlength": 4000, "rows": 2, "dir": "auto"})
    submit = SubmitField(_l("Record the question"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "ask")
        super().__init__(*args, **kwargs)


class AddendumForm(FlaskForm):
    addendum = SelectField(_l("Question answered"), validate_choice=False)
    file = FileField(_l("The addendum (PDF)"))
    submit = SubmitField(_l("Send the addendum to the patient"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "answer")
        super().__init__(*args, **kwargs)
