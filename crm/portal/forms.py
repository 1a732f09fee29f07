"""The patient portal's forms: a reply, an upload, asking for a fresh link."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class PortalReplyForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[
        DataRequired(message=_l("Write your message first.")),
        Length(max=10000, message=_l("Keep your message under %(max)d characters."))],
        render_kw={"rows": 5, "dir": "auto"})
    submit = SubmitField(_l("Send"))


class PortalUploadForm(FlaskForm):
    item = SelectField(_l("What is this document?"), choices=[], validate_choice=False)
    file = FileField(_l("File"))
    submit = SubmitField(_l("Upload"))


class NewLinkForm(FlaskForm):
    email = StringField(_l("Your email address"), validators=[
        DataRequired(message=_l("Enter the email address you wrote to us from.")),
        Length(max=254)], render_kw={"autocomplete": "email", "dir": "ltr"})
    submit = SubmitField(_l("Send me a new link"))
