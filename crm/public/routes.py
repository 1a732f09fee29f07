"""The public online request form: no sign-in, in the visitor's language, rate-limited."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..extensions import limiter
from ..i18n import language_for_locale
from ..inquiries.forms import current_locale
from ..main.forms import save_with
from ..services import intake
from ..services.centers import active_centers
from .forms import RequestForm

bp = Blueprint("public", __name__)


def _request_limit():
    return current_app.config["REQUEST_FORM_RATE_LIMIT"]


@bp.route("/request", methods=["GET", "POST"])
@limiter.limit(_request_limit, methods=["POST"])
def request_form():
    form = RequestForm()
    form.set_choices(active_centers(), current_locale())
    if request.method == "GET":
        form.preferred_language.data = language_for_locale(current_locale())
    elif form.validate_on_submit():
        if form.website.data:  # a bot filled the hidden field: thank it and keep nothing
            return redirect(url_for(".thanks")), 303
        if not form.consent.data:
            form.consent.errors = [_("Please agree to be contacted, so that we can answer you.")]
        else:
            data = {**form.patient_data(), "service": form.service.data, "center": form.center.data,
                    "reason": form.reason.data, "referring_name": form.referring_name.data,
                    "referring_institution": form.referring_institution.data,
                    "referring_country": form.referring_country.data}
            saved, inquiry = save_with(form, lambda: intake.create_inquiry(
                data, source="web_form", consent=True))
            if saved:
                session["request_reference"] = inquiry.reference
                return redirect(url_for(".thanks")), 303
    status = 422 if request.method == "POST" else 200
    return render_template("public/request.html", form=form), status


@bp.route("/request/thanks")
def thanks():
    return render_template("public/thanks.html", reference=session.get("request_reference"))
