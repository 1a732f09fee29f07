"""Forms for managing staff accounts and centers."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields import EmailField
from wtforms.widgets import CheckboxInput, ListWidget

from .. import labels
from ..i18n import LANGUAGE_LABELS, NATIVE_NAMES, UI_LOCALES, language_for_locale
from ..models.user import ROLES


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 120})
    email = EmailField(_l("Email"), render_kw={"maxlength": 254})
    role = SelectField(_l("Role"), validate_choice=False)
    centers = MultiCheckboxField(_l("Centers served"), validate_choice=False)
    languages = MultiCheckboxField(_l("Languages spoken"), validate_choice=False)
    ui_locale = SelectField(_l("Language of the screens"), validate_choice=False)
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "new-password"})
    is_active = BooleanField(_l("Account active"), default=True)
    is_away = BooleanField(_l("Away: receives no new cases"))
    submit = SubmitField(_l("Save"))

    def set_choices(self, centers, locale):
        self.role.choices = [(r, labels.ROLE_LABELS[r]) for r in ROLES]
        self.centers.choices = [(c.key, c.name_in(locale)) for c in centers]
        self.languages.choices = [(code, label) for code, label in LANGUAGE_LABELS.items()]
        self.ui_locale.choices = [("", _l("As the browser asks"))] + [
            (code, NATIVE_NAMES[language_for_locale(code)]) for code in UI_LOCALES]


class CenterForm(FlaskForm):
    key = StringField(_l("Key"), render_kw={"maxlength": 40, "pattern": "[a-z0-9_]+"})
    is_active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


for _code in UI_LOCALES:
    setattr(CenterForm, f"name_{_code}",
            StringField(NATIVE_NAMES[language_for_locale(_code)], render_kw={"maxlength": 120}))


for _code in LANGUAGE_LABELS:
    setattr(CenterForm, "kw_" + _code.replace("-", "_"),
            TextAreaField(NATIVE_NAMES[_code], render_kw={"rows": 2, "maxlength": 4000}))


def keyword_fields(form: CenterForm) -> list:
    """The keyword fields, one per patient language (comma-separated words)."""
    return [(code, getattr(form, "kw_" + code.replace("-", "_"))) for code in LANGUAGE_LABELS]


def name_fields(form: CenterForm) -> list:
    """The name fields, one per UI language."""
    return [getattr(form, f"name_{code}") for code in UI_LOCALES]
