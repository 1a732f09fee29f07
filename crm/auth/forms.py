"""Sign-in form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


REQUIRED = DataRequired(_l("This field is required."))
TOO_LONG = _l("Keep this under %(max)s characters.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[REQUIRED, Length(max=254, message=TOO_LONG)])
    password = PasswordField(_l("Password"), validators=[REQUIRED, Length(max=1000, message=TOO_LONG)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))
