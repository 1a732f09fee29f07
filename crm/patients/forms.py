"""Forms of the patient screens: merge two records (shape only: the services hold every rule)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SubmitField

#: Why two records were flagged as possibly the same person (``services.duplicates.REASONS``).
REASON_LABELS = {
    "email": _l("Same email address"),
    "phone": _l("Same phone number"),
    "name_and_birth_date": _l("Same name and date of birth"),
    "name_transliterated": _l("Name matches across spellings or scripts"),
}


class MergeForm(FlaskForm):
    """Which of the two records is kept, and the versions both were read at."""

    survivor = RadioField(_l("Which record do you keep?"), coerce=int)
    patient_version = HiddenField()
    other_version = HiddenField()
    submit = SubmitField(_l("Merge the two records"))
