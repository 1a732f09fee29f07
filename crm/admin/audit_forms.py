"""The audit screen's filters, and the names of what the trail records."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from ..models.audit import ACTIONS, OUTCOMES
from ..services.audit_search import Filters
from ..services.visibility import MAX_ID

ACTION_LABELS = {
    "view": _l("Viewed"), "create": _l("Created"), "change": _l("Changed"),
    "transition": _l("Moved to a stage"),
    "export": _l("Exported"), "export_failed": _l("Export broken off"), "download": _l("Downloaded"),
    "merge": _l("Records merged"), "sign_in": _l("Signed in"), "sign_out": _l("Signed out"),
    "sign_in_failed": _l("Sign-in refused"), "password_changed": _l("Password changed"),
    "totp_enabled": _l("Two-step sign-in turned on"), "totp_disabled": _l("Two-step sign-in turned off"),
    "totp_reset": _l("Two-step sign-in reset"), "recovery_code_used": _l("Recovery code used"),
    "break_glass_granted": _l("Emergency access granted"), "break_glass_used": _l("Emergency access used"),
    "break_glass_expired": _l("Emergency access ended"),
}
OUTCOME_LABELS = {"success": _l("Success"), "denied": _l("Denied"), "failed": _l("Failed")}
SERVICE_LABELS = {"portal": _l("Patient portal"), "scheduler": _l("Scheduler"), "mail": _l("Mail import"),
                  "cli": _l("Command line"), "public": _l("Request form"),
                  "anonymous": _l("No account (address unknown)"), "system": _l("System")}
RECORD_LABELS = {"inquiry": _l("Case"), "patient": _l("Patient"), "task": _l("Task"),
                 "inquiry_list": _l("List of cases"), "patient_list": _l("List of patients"),
                 "task_list": _l("List of tasks"), "mail_list": _l("Mail lists"),
                 "inbound_mail": _l("Mail received"), "outbound_mail": _l("Mail sent"),
                 "audit_trail": _l("Audit trail")}


class AuditFilterForm(FlaskForm):
    """Read from the query string (a GET form: no CSRF token, nothing is changed)."""

    class Meta:
        csrf = False

    who = SelectField(_l("Who"), validate_choice=True, default="")
    action = SelectField(_l("Action"), default="")
    outcome = SelectField(_l("Outcome"), default="")
    patient = IntegerField(_l("Patient id"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    record_type = SelectField(_l("Record"), default="")
    record_id = IntegerField(_l("Record id"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def set_choices(self, users) -> None:
        self.action.choices = [("", _l("Any action"))] + [(a, ACTION_LABELS.get(a, a)) for a in ACTIONS]
        self.outcome.choices = [("", _l("Any outcome"))] + [(o, OUTCOME_LABELS[o]) for o in OUTCOMES]
        self.record_type.choices = [("", _l("Any record"))] + list(RECORD_LABELS.items())
        self.who.choices = ([("", _l("Anyone"))] + [(f"user:{u.id}", f"{u.name} ({u.email})") for u in users]
                            + [(f"service:{key}", label) for key, label in SERVICE_LABELS.items()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date comes before the start date."))

    def validate_record_id(self, field) -> None:
        if field.data is not None and not self.record_type.data:
            raise ValidationError(_l("Choose what kind of record this id is."))

    def filters(self) -> Filters:
        kind, _sep, value = (self.who.data or "").partition(":")
        return Filters(actor_id=int(value) if kind == "user" else None,
                       service=value if kind == "service" else None,
                       action=self.action.data or None, outcome=self.outcome.data or None,
                       patient_id=self.patient.data, record_type=self.record_type.data or None,
                       record_id=self.record_id.data, date_from=self.date_from.data,
                       date_to=self.date_to.data)
