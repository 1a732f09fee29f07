"""The case page's actions for the journey's later steps: who pays and the ledger, appointments
confirmed or cancelled, the travel plan and companions, the visa letter, the online opinion."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..main.forms import save_with
from ..services import appointments, audit, finance, opinion, travel, uploads, visa_letter
from ..services.errors import DomainError, ValidationError
from ..services.visibility import get_inquiry
from .forms import (AddendumForm, CompanionForm, FinanceEntryForm, FinanceForm, OpinionFileForm,
                    OpinionQuestionForm, OpinionRequestForm, TravelPlanForm, TravelSendForm)
from . import care
from .routes import bp, detail_context


def _back(inquiry_id: int, anchor: str):
    return redirect(url_for(".detail", inquiry_id=inquiry_id) + f"#{anchor}"), 303


def _again(inquiry_id: int, **forms):
    inquiry = get_inquiry(current_user, inquiry_id)
    return render_template("inquiries/detail.html", **detail_context(inquiry, **forms)), 422


def _act(inquiry_id: int, anchor: str, action, done: str):
    """A one-button action: commit and flash ``done``, or roll back and flash why not."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        messages = getattr(error, "fields", None) or {}
        flash(" ".join(str(m) for m in messages.values()) or str(error.message), "danger")
    else:
        db.session.commit()
        flash(done, "success")
    return _back(inquiry_id, anchor)


def _stored(form, field: str):
    """The uploaded file of ``form.<field>`` checked and stored, or None when none was sent;
    a refused file is a ``ValidationError`` on that field."""
    upload = request.files.get(getattr(form, field).name)
    if upload is None or not upload.filename:
        return None
    limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    try:
        return uploads.store(upload.stream.read(limit + 1), upload.filename,
                             upload_dir=current_app.config["UPLOAD_DIR"], max_bytes=limit)
    except ValidationError as error:
        raise ValidationError(fields={field: message for message in error.fields.values()}) from None


# --- who pays -----------------------------------------------------------------------------------

def _page(template: str, inquiry_id: int, build, form=None):
    """A journey step's own edit page: filled from what is on file, or ``form`` refused (422)."""
    inquiry = get_inquiry(current_user, inquiry_id)
    if form is None:
        return render_template(template, **build(inquiry))
    return render_template(template, **build(inquiry, form)), 422


@bp.route("/<int:inquiry_id>/finance", methods=["GET", "POST"])
def save_finance(inquiry_id: int):
    """Who pays, on a page of its own (the case page's card shows what is recorded)."""
    if request.method == "GET":
        return _page("inquiries/finance.html", inquiry_id, care.finance_page)
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = FinanceForm()
    if form.validate_on_submit():
        saved, _clearance = save_with(form, lambda: finance.save(
            inquiry, form.finance_data(), actor=current_user, expected_version=form.version.data,
            guarantee=_stored(form, "guarantee_file")))
        if saved:
            flash(_("Saved who pays for this case."), "success")
            return _back(inquiry_id, "finance")
    return _page("inquiries/finance.html", inquiry_id, care.finance_page, form)


@bp.route("/<int:inquiry_id>/finance/entries", methods=["POST"])
def add_finance_entry(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = FinanceEntryForm()
    if form.validate_on_submit():
        saved, _entry = save_with(form, lambda: finance.add_entry(
            inquiry, form.kind.data, form.amount.data, note=form.entry_note.data or "", actor=current_user))
        if saved:
            flash(_("Added to the ledger."), "success")
            return _back(inquiry_id, "finance")
    return _again(inquiry_id, entry_form=form)


def _visit(inquiry):
    return appointments.first_visit(appointments.appointments_of(inquiry))


@bp.route("/<int:inquiry_id>/finance/clear", methods=["POST"])
def clear_finance(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    return _act(inquiry_id, "finance", lambda: finance.clear(inquiry, actor=current_user, visit=_visit(inquiry)),
                _("The case is financially cleared: it can go on to scheduling."))


@bp.route("/<int:inquiry_id>/finance/estimate", methods=["POST"])
def send_estimate(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    return _act(inquiry_id, "finance", lambda: finance.send_estimate(inquiry, actor=current_user,
                                                                     visit=_visit(inquiry)),
                _("The estimate is on its way to the patient, in their language and currency."))


# --- appointments -------------------------------------------------------------------------------

@bp.route("/<int:inquiry_id>/appointments/<int:appointment_id>/confirm", methods=["POST"])
def confirm_appointment(inquiry_id: int, appointment_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    return _act(inquiry_id, "appointments",
                lambda: appointments.confirm(inquiry, appointment_id, actor=current_user),
                _("The appointment is confirmed and on its way to the patient, with its calendar file."))


@bp.route("/<int:inquiry_id>/appointments/<int:appointment_id>/cancel", methods=["POST"])
def cancel_appointment(inquiry_id: int, appointment_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    return _act(inquiry_id, "appointments",
                lambda: appointments.cancel(inquiry, appointment_id, actor=current_user),
                _("The appointment is cancelled."))


@bp.route("/<int:inquiry_id>/appointments/<int:appointment_id>.ics")
def appointment_ics(inquiry_id: int, appointment_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    try:
        appointment = appointments.get_appointment(inquiry, appointment_id)
    except ValidationError:
        abort(404)
    return _ics_response(appointment, inquiry)


def _ics_response(appointment, inquiry):
    response = current_app.response_class(appointments.ics(appointment, inquiry),
                                          mimetype=appointments.ICS_TYPE)
    response.headers["Content-Disposition"] = f"attachment; filename={appointments.ics_filename(appointment)}"
    return response


# --- travel -------------------------------------------------------------------------------------

@bp.route("/<int:inquiry_id>/travel-plan", methods=["GET", "POST"])
def save_travel_plan(inquiry_id: int):
    """The travel plan and the patient's passport, on a page of their own."""
    if request.method == "GET":
        return _page("inquiries/travel_plan.html", inquiry_id, care.plan_page)
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = TravelPlanForm(patient=inquiry.patient)
    if form.validate_on_submit():
        saved, _plan = save_with(form, lambda: travel.save_plan(inquiry, form.plan_data(), actor=current_user,
                                                                expected_version=form.version.data))
        if saved:
            flash(_("Travel plan saved."), "success")
            return _back(inquiry_id, "travel-plan")
    return _page("inquiries/travel_plan.html", inquiry_id, care.plan_page, form)


@bp.route("/<int:inquiry_id>/travel-plan/companions", methods=["GET", "POST"])
def add_companion(inquiry_id: int):
    """Someone travelling with the patient, added on a page of its own."""
    if request.method == "GET":
        return _page("inquiries/companion.html", inquiry_id, care.companion_page)
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = CompanionForm(patient=inquiry.patient)
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in ("full_name", "relationship", "date_of_birth",
                                                            "passport_number", "passport_country",
                                                            "passport_expires_on")}
        saved, _companion = save_with(form, lambda: travel.add_companion(inquiry, data, actor=current_user))
        if saved:
            flash(_("Companion added."), "success")
            return _back(inquiry_id, "travel-plan")
    return _page("inquiries/companion.html", inquiry_id, care.companion_page, form)


@bp.route("/<int:inquiry_id>/travel-plan/companions/<int:companion_id>/remove", methods=["POST"])
def remove_companion(inquiry_id: int, companion_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    return _act(inquiry_id, "travel-plan",
                lambda: travel.remove_companion(inquiry, companion_id, actor=current_user),
                _("Companion removed."))


@bp.route("/<int:inquiry_id>/travel-plan/send", methods=["POST"])
def send_travel_plan(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    form = TravelSendForm()
    if form.validate_on_submit():
        saved, _row = save_with(form, lambda: travel.send_plan(inquiry, actor=current_user,
                                                               note=form.travel_plan_note.data or ""))
        if saved:
            flash(_("The travel plan is on its way to the patient, who can confirm or correct it."), "success")
            return _back(inquiry_id, "travel-plan")
    return _again(inquiry_id, travel_send_form=form)


@bp.route("/<int:inquiry_id>/travel-plan/passports")
def passports(inquiry_id: int):
    """The passport numbers whole, for the coordinators of the case only; audited."""
    inquiry = get_inquiry(current_user, inquiry_id)
    if not travel.can_see_passports(current_user, inquiry):
        abort(403)
    plan = travel.plan_of(inquiry)
    audit.record("view", actor=current_user, inquiry=inquiry, detail="passports")
    db.session.commit()
    return render_template("inquiries/passports.html", inquiry=inquiry, patient=inquiry.patient, plan=plan)


@bp.route("/<int:inquiry_id>/visa-letter", methods=["POST"])
def make_visa_letter(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    if not travel.can_see_passports(current_user, inquiry):
        abort(403)
    return _act(inquiry_id, "travel-plan", lambda: visa_letter.generate(inquiry, actor=current_user),
                _("The visa letter is ready: read it, then send it to the patient."))


@bp.route("/<int:inquiry_id>/visa-letter/send", methods=["POST"])
def send_visa_letter(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    if not travel.can_see_passports(current_user, inquiry):
        abort(403)
    return _act(inquiry_id, "travel-plan", lambda: visa_letter.send(inquiry, actor=current_user),
                _("The visa letter is on its way to the patient."))


# --- the online second opinion ------------------------------------------------------------------

@bp.route("/<int:inquiry_id>/opinion", methods=["POST"])
def save_opinion_request(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = OpinionRequestForm()
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in ("physician_questions", "specialist_name", "specialty")}
        saved, _request = save_with(form, lambda: opinion.save_request(inquiry, data, actor=current_user))
        if saved:
            flash(_("Saved."), "success")
            return _back(inquiry_id, "opinion")
    return _again(inquiry_id, opinion_form=form)


@bp.route("/<int:inquiry_id>/opinion/file", methods=["POST"])
def upload_opinion(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = OpinionFileForm()
    if form.validate_on_submit():
        def upload():
            stored = _stored(form, "file")
            if stored is None:
                raise ValidationError("file", _("Choose the file to upload."))
            return opinion.upload_opinion(inquiry, stored, actor=current_user)
        saved, _document = save_with(form, upload)
        if saved:
            flash(_("The written opinion is on the case: read it, then send it to the patient."), "success")
            return _back(inquiry_id, "opinion")
    return _again(inquiry_id, opinion_file_form=form)


@bp.route("/<int:inquiry_id>/opinion/release", methods=["POST"])
def release_opinion(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    return _act(inquiry_id, "opinion", lambda: opinion.release(inquiry, actor=current_user),
                _("The patient is told, in their language, that the opinion is ready on their page."))


@bp.route("/<int:inquiry_id>/opinion/questions", methods=["POST"])
def ask_opinion_question(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = OpinionQuestionForm()
    if form.validate_on_submit():
        saved, _addendum = save_with(form, lambda: opinion.ask(inquiry, form.question.data, asked_by="physician",
                                                               actor=current_user))
        if saved:
            flash(_("Question recorded for the specialist."), "success")
            return _back(inquiry_id, "opinion")
    return _again(inquiry_id, question_form=form)


@bp.route("/<int:inquiry_id>/opinion/addenda", methods=["POST"])
def answer_opinion_question(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = AddendumForm()
    form.addendum.choices = []
    if form.validate_on_submit():
        def answer():
            stored = _stored(form, "file")
            if stored is None:
                raise ValidationError("file", _("Choose the file to upload."))
            return opinion.answer(inquiry, form.addendum.data, stored, actor=current_user)
        saved, _addendum = save_with(form, answer)
        if saved:
            flash(_("The addendum is on its way to the patient."), "success")
            return _back(inquiry_id, "opinion")
    return _again(inquiry_id, addendum_form=form)


@bp.route("/<int:inquiry_id>/opinion/convert", methods=["POST"])
def convert_to_in_person(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    return _act(inquiry_id, "opinion", lambda: opinion.convert_to_in_person(
        inquiry, actor=current_user, expected_version=request.form.get("version")),
        _("This is now an in-person second opinion: scheduling and travel are on its path."))
