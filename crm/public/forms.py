"""The public online request form."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField

from .. import labels
from ..inquiries.forms import LONG, PatientFieldsForm, country_choices
from ..models.inquiry import SERVICES


class RequestForm(PatientFieldsForm):
    """Ask for an appointment or a second opinion."""

    service = SelectField(_l("What would you like?"), validate_choice=False)
    center = SelectField(_l("Which area of medicine is it about?"), validate_choice=False)
    reason = TextAreaField(_l("Tell us about your condition and what you hope for"), render_kw=LONG)
    referring_name = StringField(_l("Your physician's name (optional)"), render_kw={"maxlength": 120})
    referring_institution = StringField(_l("Your physician's hospital or clinic (optional)"),
                                        render_kw={"maxlength": 200})
    referring_country = SelectField(_l("Your physician's country (optional)"), validate_choice=False)
    consent = BooleanField(_l("I agree that the international patient center may contact me "
                              "about this request and keep the information I give for that purpose."))
    website = StringField(_l("Leave this field empty"))  # honeypot for bots
    submit = SubmitField(_l("Send my request"))

    def set_choices(self, centers, locale):
        self.service.choices = [("", _l("— Choose —"))] + [(s, labels.SERVICE_LABELS[s]) for s in SERVICES]
        self.center.choices = [("", _l("I am not sure"))] + [(c.key, c.name_in(locale)) for c in centers]
        self.referring_country.choices = country_choices()
