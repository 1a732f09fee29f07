"""Forms to register and edit an inquiry, move it, and leave a note (shape only: the
services hold every rule)."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
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


def country_choices(blank=True):
    names = get_locale().territories
    choices = sorted(((code, names.get(code, code)) for code in COUNTRY_CODES), key=lambda c: c[1])
    return ([("", _l("— Choose —"))] if blank else []) + choices


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
