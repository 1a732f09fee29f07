"""The case page's conversation with the patient: reply, ask for records, send appointment
and travel details, a new portal link; documents for staff only."""
from __future__ import annotations

import io

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..main.forms import save_with
from ..services import appointments, audit, conversation, travel, uploads
from ..services.centers import active_centers
from ..services.errors import NotFound, ValidationError
from ..services.visibility import get_inquiry
from .forms import AppointmentBookingForm, RecordsRequestForm, ReplyForm, TravelForm, current_locale
from .routes import bp, detail_context


def _back(inquiry_id: int, anchor: str = "conversation"):
    return redirect(url_for(".detail", inquiry_id=inquiry_id) + f"#{anchor}"), 303


def _again(inquiry_id: int, **forms):
    inquiry = get_inquiry(current_user, inquiry_id)
    return render_template("inquiries/detail.html", **detail_context(inquiry, **forms)), 422


def _form_page(template: str, inquiry_id: int, form, *, refused: bool = False, **extra):
    """A form of the case with a page of its own: empty (GET) or refused with its errors (422)."""
    inquiry = get_inquiry(current_user, inquiry_id)  # read again: a refusal rolled back
    if isinstance(form, AppointmentBookingForm):
        form.set_centers(active_centers(), current_locale(), default=inquiry.center)
        extra["appointments"] = appointments.appointments_of(inquiry)
    page = render_template(template, inquiry=inquiry, patient=inquiry.patient, form=form, **extra)
    return (page, 422) if refused else page


@bp.route("/<int:inquiry_id>/reply", methods=["POST"])
def reply(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    form = ReplyForm()
    if form.validate_on_submit():
        saved, _row = save_with(form, lambda: conversation.send_reply(inquiry, form.body.data,
                                                                      actor=current_user))
        if saved:
            flash(_("Your message is on its way to the patient, in their language's frame."), "success")
            return _back(inquiry_id)
    return _again(inquiry_id, reply_form=form)


@bp.route("/<int:inquiry_id>/records", methods=["GET", "POST"])
def request_records(inquiry_id: int):
    """Ask the patient for records, on a page of its own (the case page's card links to it)."""
    if request.method == "GET":
        return _form_page("inquiries/records_request.html", inquiry_id, RecordsRequestForm(formdata=None))
    inquiry = get_inquiry(current_user, inquiry_id)
    form = RecordsRequestForm()
    if form.validate_on_submit():
        saved, _items = save_with(form, lambda: conversation.request_records(
            inquiry, form.items.data or [], note=form.note.data or "", actor=current_user))
        if saved:
            flash(_("The patient has been asked for the records; the case now waits on them."), "success")
            return _back(inquiry_id, "records")
    return _form_page("inquiries/records_request.html", inquiry_id, form, refused=True)


@bp.route("/<int:inquiry_id>/records/<int:item_id>/received", methods=["POST"])
def record_received(inquiry_id: int, item_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)  # the CSRF token is checked app-wide
    try:
        conversation.mark_received(inquiry, item_id, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        flash(" ".join(str(m) for m in error.fields.values()), "danger")
    else:
        db.session.commit()
        flash(_("Marked as received."), "success")
    return _back(inquiry_id, "records")


@bp.route("/<int:inquiry_id>/appointment", methods=["GET", "POST"])
def send_appointment(inquiry_id: int):
    """Book an appointment, on a page of its own: confirmed and mailed with its calendar file, or
    kept as proposed."""
    if request.method == "GET":
        return _form_page("inquiries/appointment.html", inquiry_id, AppointmentBookingForm(formdata=None))
    inquiry = get_inquiry(current_user, inquiry_id)
    form = AppointmentBookingForm()
    if form.validate_on_submit():
        confirm = not form.propose.data
        saved, _appointment = save_with(form, lambda: appointments.book(
            inquiry, actor=current_user, when=appointments.boston_time(form.date.data, form.time.data),
            location=form.location.data or "", physician=form.clinician.data or "",
            center_key=form.center.data or None, note=form.note.data or "", duration=form.duration.data,
            confirm=confirm))
        if saved:
            flash(_("The appointment details are on their way to the patient.") if confirm
                  else _("The appointment is kept as proposed: confirm it to send it to the patient."), "success")
            return _back(inquiry_id, "appointments")
    return _form_page("inquiries/appointment.html", inquiry_id, form, refused=True)


@bp.route("/<int:inquiry_id>/travel", methods=["GET", "POST"])
def send_travel(inquiry_id: int):
    """Travel details written out for the patient, on a page of its own."""
    if request.method == "GET":
        return _form_page("inquiries/travel_details.html", inquiry_id, TravelForm(formdata=None))
    inquiry = get_inquiry(current_user, inquiry_id)
    form = TravelForm()
    if form.validate_on_submit():
        details = {name: getattr(form, name).data for name in conversation.TRAVEL_FIELDS}
        saved, _row = save_with(form, lambda: conversation.send_travel(
            inquiry, details, actor=current_user, note=form.note.data or ""))
        if saved:
            flash(_("The travel details are on their way to the patient."), "success")
            return _back(inquiry_id)
    return _form_page("inquiries/travel_details.html", inquiry_id, form, refused=True)


@bp.route("/<int:inquiry_id>/portal-link", methods=["POST"])
def new_portal_link(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)  # the CSRF token is checked app-wide
    try:
        conversation.send_new_link(inquiry, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        flash(" ".join(str(m) for m in error.fields.values()), "danger")
    else:
        db.session.commit()
        flash(_("A new link is on its way to the patient; the earlier links no longer work."), "success")
    return _back(inquiry_id)


@bp.route("/<int:inquiry_id>/documents/<int:document_id>")
def document(inquiry_id: int, document_id: int):
    """A document of the case, for staff who may see the case; the download is audited."""
    inquiry = get_inquiry(current_user, inquiry_id)
    doc = conversation.get_document(inquiry, document_id)
    if doc.kind == "visa_letter" and not travel.can_see_passports(current_user, inquiry):
        raise NotFound()  # it holds passport numbers whole
    data = uploads.read_stored(current_app.config["UPLOAD_DIR"], doc.storage_name)  # decrypted
    audit.record("download", actor=current_user, inquiry=inquiry, detail=f"document={doc.id}")
    db.session.commit()
    response = send_file(io.BytesIO(data), mimetype=doc.content_type, as_attachment=True,
                         download_name=doc.filename, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
