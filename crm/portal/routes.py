"""The patient portal ``/p/<token>``: no password, the patient's language, one inquiry."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db, limiter
from ..i18n import LANGUAGE_LOCALES, normalize_locale
from ..main.forms import apply_errors
from ..services import portal
from ..services.errors import ValidationError
from ..services.portal_links import OK
from .forms import NewLinkForm, PortalReplyForm, PortalUploadForm

bp = Blueprint("portal", __name__)


def _portal_limit():
    return current_app.config["PORTAL_RATE_LIMIT"]


limiter.limit(_portal_limit)(bp)


@bp.before_request
def patient_language():
    """The patient's language unless they chose another here (``?lang=``, remembered)."""
    asked = normalize_locale(request.args.get("lang"))
    if asked:
        session["portal_lang"] = asked
    g.locale_override = session.get("portal_lang")


@bp.after_request
def no_referrer(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _open(token: str):
    """The link's case, or the page that offers a fresh link (the same for every failure)."""
    status, link = portal.open_link(token)
    if status != OK:
        return None
    if not g.get("locale_override"):
        g.locale_override = LANGUAGE_LOCALES.get(link.inquiry.patient.preferred_language, "en")
    return link


def _expired():
    return render_template("portal/expired.html", form=NewLinkForm()), 404


@bp.route("/p/<token>")
def view(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    db.session.commit()
    return render_template("portal/view.html", token=token, **portal.page(link),
                           reply_form=PortalReplyForm(), upload_form=_upload_form(link))


def _upload_form(link, formdata=None):
    form = PortalUploadForm(formdata=formdata) if formdata is not None else PortalUploadForm()
    form.item.choices = portal.item_choices(link)
    return form


@bp.route("/p/<token>/reply", methods=["POST"])
def reply(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    form = PortalReplyForm()
    if form.validate_on_submit():
        portal.reply(link, form.body.data)
        db.session.commit()
        flash(_("Thank you. Your message has been sent to your care coordinator."), "success")
        return redirect(url_for(".view", token=token) + "#thread"), 303
    return render_template("portal/view.html", token=token, **portal.page(link), reply_form=form,
                           upload_form=_upload_form(link)), 422


@bp.route("/p/<token>/upload", methods=["POST"])
def upload(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    form = _upload_form(link, request.form)
    form.file.data = request.files.get("file")
    if form.validate_on_submit():
        try:
            document = portal.upload(link, form.file.data, form.item.data)
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Thank you. We have received “%(name)s”.", name=document.filename), "success")
            return redirect(url_for(".view", token=token) + "#records"), 303
    link = _open(token)
    return render_template("portal/view.html", token=token, **portal.page(link),
                           reply_form=PortalReplyForm(), upload_form=form), 422


@bp.route("/p/new-link", methods=["POST"])
@limiter.limit("5 per hour")
def new_link():
    """Whatever was typed, the same answer: a fresh link goes only to the address on file."""
    form = NewLinkForm()
    if form.validate_on_submit():
        portal.send_fresh_link(form.email.data, request.form.get("token", ""))
        db.session.commit()
        return render_template("portal/link_sent.html")
    return render_template("portal/expired.html", form=form), 422


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A request far over the limit, refused before it is read, in the patient's language."""
    token = (request.view_args or {}).get("token", "")
    link = _open(token) if token else None
    if link is None:
        return _expired()[0], 413
    form = PortalUploadForm(formdata=None)  # the body is not read again: it is too large
    form.item.choices = portal.item_choices(link)
    form.file.errors = [_("This file is larger than %(max)s MB. Send it in parts, or as a ZIP.",
                          max=current_app.config["MAX_UPLOAD_MB"])]
    return render_template("portal/view.html", token=token, **portal.page(link),
                           reply_form=PortalReplyForm(formdata=None), upload_form=form), 413


# --- the journey's later steps: appointments' calendar files, the travel plan to confirm, the
# written opinion and the visa letter to read, a question on the opinion ---

import io  # noqa: E402

from flask import send_file  # noqa: E402
from flask_babel import lazy_gettext as _l  # noqa: E402

from ..services import appointments, audit, opinion, travel, uploads  # noqa: E402
from ..services.care import portal_context  # noqa: E402
from ..main.forms import save_with  # noqa: E402
from ..services.errors import NotFound  # noqa: E402
from ..services.portal_links import resolve as resolve_link  # noqa: E402
from .forms import PortalQuestionForm, PortalTravelForm  # noqa: E402

#: What the patient reads of the documents the center sends them.
DOCUMENT_LABELS = {"opinion": _l("Read your written second opinion (PDF)"),
                   "addendum": _l("Read the addendum answering your question (PDF)"),
                   "visa_letter": _l("Your visa invitation letter (PDF)")}


@bp.context_processor
def care_forms():
    """The journey's portal forms, empty unless a view passes one back with its errors."""
    if request.endpoint is None or not request.endpoint.startswith("portal."):
        return {}
    status, link = resolve_link((request.view_args or {}).get("token", ""))
    plan = travel.plan_of(link.inquiry) if status == OK else None
    values = {} if plan is None else {
        "arrival_date": plan.arrival_date.isoformat() if plan.arrival_date else "",
        "departure_date": plan.departure_date.isoformat() if plan.departure_date else "",
        "arrival_flight": plan.arrival_flight, "departure_flight": plan.departure_flight,
        "special_needs": plan.special_needs}
    return {"travel_form": PortalTravelForm(formdata=None, data=values),
            "question_form": PortalQuestionForm(formdata=None),
            "care_document_labels": DOCUMENT_LABELS}


def _page_again(token: str, link, **forms):
    return render_template("portal/view.html", token=token, **portal.page(link), reply_form=PortalReplyForm(),
                           upload_form=_upload_form(link), **forms), 422


@bp.route("/p/<token>/appointments/<int:appointment_id>.ics")
def appointment_ics(token: str, appointment_id: int):
    """An appointment to come, as a calendar file in the patient's language."""
    link = _open(token)
    if link is None:
        return _expired()
    active = {a.id: a for a in portal_context(link.inquiry)["care_appointments"]}
    if appointment_id not in active:
        return _expired()[0], 404
    db.session.commit()
    response = current_app.response_class(appointments.ics(active[appointment_id], link.inquiry),
                                          mimetype=appointments.ICS_TYPE)
    response.headers["Content-Disposition"] = \
        f"attachment; filename={appointments.ics_filename(active[appointment_id])}"
    return response


@bp.route("/p/<token>/documents/<int:document_id>")
def document(token: str, document_id: int):
    """A document the center sent the patient: the written opinion, an addendum, the visa letter."""
    link = _open(token)
    if link is None:
        return _expired()
    readable = {d.id: d for d in portal_context(link.inquiry)["care_documents"]}
    doc = readable.get(document_id)
    try:
        if doc is None:
            raise NotFound()
        data = uploads.read_stored(current_app.config["UPLOAD_DIR"], doc.storage_name)  # decrypted
    except NotFound:
        db.session.rollback()
        return _expired()[0], 404
    audit.record("download", actor=None, inquiry=link.inquiry, origin="portal", detail=f"document={doc.id}")
    db.session.commit()
    response = send_file(io.BytesIO(data), mimetype=doc.content_type, as_attachment=True,
                         download_name=doc.filename, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/p/<token>/travel", methods=["POST"])
def confirm_travel(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    form = PortalTravelForm()
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in (*travel.PATIENT_FIELDS, "message")}
        saved, _plan = save_with(form, lambda: travel.confirm_by_patient(link.inquiry, data))
        if saved:
            flash(_("Thank you. Your care coordinator sees your travel details now."), "success")
            return redirect(url_for(".view", token=token) + "#travel"), 303
    return _page_again(token, _open(token), travel_form=form)


@bp.route("/p/<token>/opinion/questions", methods=["POST"])
def ask_question(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    form = PortalQuestionForm()
    if form.validate_on_submit():
        saved, _question = save_with(form, lambda: opinion.ask(link.inquiry, form.question.data,
                                                               asked_by="patient"))
        if saved:
            flash(_("Thank you. The specialist will answer your question in an addendum to your opinion."),
                  "success")
            return redirect(url_for(".view", token=token) + "#opinion"), 303
    return _page_again(token, _open(token), question_form=form)
