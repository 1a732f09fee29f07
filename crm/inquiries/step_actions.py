"""The case page's journey actions: a record waived, made optional or required, or received with
one of the case's documents; the clinical review; the medical record number; the clinical trial."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import labels
from ..extensions import db
from ..main.forms import save_with
from ..services import records, registration, review, trials
from ..services.errors import DomainError, ValidationError
from ..services.visibility import get_inquiry
from .forms import MrnForm, ReviewForm, TrialForm, WaiveForm
from .routes import bp, detail_context


def _back(inquiry_id: int, anchor: str):
    return redirect(url_for(".detail", inquiry_id=inquiry_id) + f"#{anchor}"), 303


def _again(inquiry_id: int, **forms):
    inquiry = get_inquiry(current_user, inquiry_id)
    return render_template("inquiries/detail.html", **detail_context(inquiry, **forms)), 422


def _flash_refusal(error: DomainError) -> None:
    messages = getattr(error, "fields", None) or {}
    flash(" ".join(str(m) for m in messages.values()) or str(error.message), "danger")


@bp.route("/<int:inquiry_id>/records/<int:item_id>/waive", methods=["POST"])
def waive_record(inquiry_id: int, item_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    form = WaiveForm()
    if form.validate_on_submit():
        saved, item = save_with(form, lambda: records.waive(inquiry, item_id, form.reason.data,
                                                            actor=current_user))
        if saved:
            flash(_("%(item)s waived.", item=labels.RECORD_ITEM_LABELS.get(item.item, item.item)), "success")
            return _back(inquiry_id, "records")
        if form.form_errors and not form.reason.errors:  # not the reason: the record itself
            flash(" ".join(form.form_errors), "danger")
            return _back(inquiry_id, "records")
    return _again(inquiry_id, waive_form=form, waive_item_id=item_id)


@bp.route("/<int:inquiry_id>/records/<int:item_id>/required", methods=["POST"])
def record_required(inquiry_id: int, item_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)  # the CSRF token is checked app-wide
    required = request.form.get("required") == "1"
    try:
        records.set_required(inquiry, item_id, required, actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(_("The record is required now.") if required else _("The record is optional now."), "success")
    return _back(inquiry_id, "records")


@bp.route("/<int:inquiry_id>/records/<int:item_id>/document", methods=["POST"])
def record_document(inquiry_id: int, item_id: int):
    """One of the case's documents brings this record."""
    inquiry = get_inquiry(current_user, inquiry_id)
    try:
        records.link_document(inquiry, item_id, request.form.get("document_id"), actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(_("Marked as received, with its document."), "success")
    return _back(inquiry_id, "records")


@bp.route("/<int:inquiry_id>/review", methods=["POST"])
def save_review(inquiry_id: int):
    """Name the reviewing physician, or record their decision (and what follows from it)."""
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = ReviewForm()
    form.set_choices(review.reviewers(), decisions=True)
    if form.validate_on_submit():
        decision = form.decision.data or ""
        if decision:
            action = lambda: review.record_decision(  # noqa: E731
                inquiry, decision, actor=current_user, expected_version=form.version.data,
                reason=form.reason.data, items=form.items.data or [],
                reviewer_id=form.reviewer_id.data, reviewer_name=form.reviewer_name.data)
        else:
            action = lambda: review.name_reviewer(  # noqa: E731
                inquiry, actor=current_user, reviewer_id=form.reviewer_id.data,
                reviewer_name=form.reviewer_name.data)
        saved, _round = save_with(form, action)
        patient = inquiry.patient
        if saved and decision == "more_records" and (not patient.email or patient.email_bounced_at):
            flash(_("The case is back in records. The patient cannot be mailed: ask them for the "
                    "records by phone."), "warning")
            return _back(inquiry_id, "records")
        if saved:
            flash({"accept": _("The case is accepted: it can go on to financial clearance."),
                   "decline": _("The case is declined. Tell the patient, then close the case as not "
                                "accepted."),
                   "more_records": _("The case is back in records; the patient is asked for the records "
                                     "the physician wants."),
                   }.get(decision, _("Reviewing physician saved.")), "success")
            return _back(inquiry_id, "review")
    return _again(inquiry_id, review_form=form)


@bp.route("/<int:inquiry_id>/mrn", methods=["POST"])
def register_mrn(inquiry_id: int):
    """The medical record number the registration center issued."""
    inquiry = get_inquiry(current_user, inquiry_id)
    form = MrnForm()
    if form.validate_on_submit():
        saved, changed = save_with(form, lambda: registration.register_mrn(
            inquiry, form.mrn.data, actor=current_user, expected_version=form.version.data))
        if saved:
            flash(_("Medical record number saved.") if changed else _("Nothing to change."), "success")
            return _back(inquiry_id, "registration")
    return _again(inquiry_id, mrn_form=form)


@bp.route("/<int:inquiry_id>/trial", methods=["POST"])
def save_trial(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = TrialForm()
    if form.validate_on_submit():
        saved, changed = save_with(form, lambda: trials.record_trial(
            inquiry, actor=current_user, expected_version=form.version.data,
            interested=form.interested.data, name=form.trial_name.data,
            registry_id=form.trial_registry_id.data))
        if saved:
            flash(_("Clinical trial saved.") if changed else _("Nothing to change."), "success")
            return _back(inquiry_id, "trial")
    return _again(inquiry_id, trial_form=form)

