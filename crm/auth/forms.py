"""Sign-in, two-step sign-in, password and emergency access forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length


REQUIRED = DataRequired(_l("This field is required."))
TOO_LONG = _l("Keep this under %(max)s characters.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[REQUIRED, Length(max=254, message=TOO_LONG)])
    password = PasswordField(_l("Password"), validators=[REQUIRED, Length(max=1000, message=TOO_LONG)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    """The second step: a code from the app, or a recovery code."""

    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[REQUIRED, Length(max=40, message=TOO_LONG)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                                  "spellcheck": "false", "maxlength": 40, "autofocus": True})
    submit = SubmitField(_l("Verify"))


class EnrollForm(FlaskForm):
    """Setting up the app: its first code turns two-step sign-in on."""

    code = StringField(_l("The 6-digit code your app shows now"),
                       validators=[REQUIRED, Length(max=12, message=TOO_LONG)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "maxlength": 12})
    submit = SubmitField(_l("Turn on two-step sign-in"))


class ConfirmPasswordForm(FlaskForm):
    """An action on two-step sign-in, confirmed with the password (the phone may be lost)."""

    password = PasswordField(_l("Your password"), validators=[REQUIRED, Length(max=1000, message=TOO_LONG)],
                             render_kw={"autocomplete": "current-password"})


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[REQUIRED, Length(max=1000, message=TOO_LONG)],
                                     render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("New password"), validators=[REQUIRED, Length(max=1000, message=TOO_LONG)],
                             render_kw={"autocomplete": "new-password", "minlength": 12})
    confirm = PasswordField(_l("New password again"),
                            validators=[REQUIRED, EqualTo("password", message=_l("The two new passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))


class BreakGlassForm(FlaskForm):
    """A coordinator's request for emergency access to one case outside their centers."""

    reference = StringField(_l("Case reference"), validators=[REQUIRED, Length(max=20, message=TOO_LONG)],
                            render_kw={"maxlength": 20, "placeholder": "ITN-000123", "spellcheck": "false"})
    reason = TextAreaField(_l("Why this emergency needs the case"),
                           validators=[REQUIRED, Length(max=1000, message=TOO_LONG)],
                           render_kw={"rows": 3, "maxlength": 1000})
    submit = SubmitField(_l("Open the case for emergency access"))
