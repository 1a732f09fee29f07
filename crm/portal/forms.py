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


# --- the journey's later steps: the travel plan to confirm, a question on the opinion ---

class PortalTravelForm(FlaskForm):
    """The patient confirms their travel plan, correcting what is wrong."""

    arrival_date = StringField(_l("Arrival date"), render_kw={"type": "date"})
    arrival_flight = StringField(_l("Arrival flight"), render_kw={"maxlength": 100})
    departure_date = StringField(_l("Departure date"), render_kw={"type": "date"})
    departure_flight = StringField(_l("Departure flight"), render_kw={"maxlength": 100})
    special_needs = TextAreaField(_l("Special needs (wheelchair, diet, oxygen…)"),
                                  render_kw={"maxlength": 2000, "rows": 2, "dir": "auto"})
    message = TextAreaField(_l("Anything else to correct (passport, companions…)?"),
                            render_kw={"maxlength": 4000, "rows": 2, "dir": "auto"})
    submit = SubmitField(_l("Confirm my travel details"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "trip")
        super().__init__(*args, **kwargs)


class PortalQuestionForm(FlaskForm):
    """A follow-up question on the written opinion."""

    question = TextAreaField(_l("Your question about the opinion"), validators=[
        DataRequired(message=_l("Write your question first.")),
        Length(max=4000, message=_l("Keep your question under %(max)d characters."))],
        render_kw={"rows": 3, "dir": "auto"})
    submit = SubmitField(_l("Send my question"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "ask")
        super().__init__(*args, **kwargs)
