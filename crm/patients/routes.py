"""The patient page: who they are and every inquiry of theirs the user may see; possible
duplicates, comparing and merging two records."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import restrict, safe_next, sees_cases
from ..extensions import db
from ..inquiries.forms import PatientEditForm
from ..main.forms import apply_errors, save_with
from ..models import Inquiry
from ..services import audit, duplicates, intake
from ..services.errors import NotFound, StaleVersion, ValidationError
from ..services.visibility import as_id, get_patient, inquiry_scope
from .forms import REASON_LABELS, MergeForm

bp = Blueprint("patients", __name__)
restrict(bp, sees_cases)


def visible_inquiries_of(patient):
    return db.session.scalars(
        db.select(Inquiry).where(Inquiry.patient_id == patient.id, inquiry_scope(current_user))
        .order_by(Inquiry.created_at.desc())).all()


def to_survivor(patient_id: int, endpoint: str):
    """A redirect to the record that ``patient_id`` was merged into (if the user may see it),
    or None when it was not merged."""
    survivor_id = duplicates.surviving_id(as_id(patient_id))
    if survivor_id is None:
        return None
    get_patient(current_user, survivor_id)
    flash(_("The record you opened was merged into this one."), "info")
    return redirect(url_for(endpoint, patient_id=survivor_id))


@bp.route("/<int:patient_id>")
def detail(patient_id: int):
    if merged := to_survivor(patient_id, ".detail"):
        return merged
    patient = get_patient(current_user, patient_id)
    inquiries = visible_inquiries_of(patient)
    matches = duplicates.possible_duplicates(patient, user=current_user)
    merged = duplicates.merged_details(patient)
    audit.record("view", actor=current_user, patient=patient)
    db.session.commit()
    return render_template("patients/detail.html", patient=patient, inquiries=inquiries,
                           matches=matches, merged=merged, reason_labels=REASON_LABELS)


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
def edit(patient_id: int):
    if merged := to_survivor(patient_id, ".edit"):
        return merged
    patient = get_patient(current_user, patient_id)
    form = PatientEditForm(obj=patient if request.method == "GET" else None)
    if request.method == "GET":
        form.date_of_birth.data = patient.date_of_birth.isoformat() if patient.date_of_birth else ""
        form.version.data = patient.version
    elif form.validate_on_submit():
        data = {**form.patient_data(), "mrn": form.mrn.data}
        saved, changed = save_with(form, lambda: intake.update_patient(
            patient, data, actor=current_user, expected_version=form.version.data))
        if saved:
            flash(_("Changes saved.") if changed else _("Nothing to change."), "success")
            return redirect(url_for(".detail", patient_id=patient.id)), 303
        patient = get_patient(current_user, patient_id)
    status = 422 if request.method == "POST" else 200
    return render_template("patients/edit.html", form=form, patient=patient), status


@bp.route("/duplicates", endpoint="duplicates")
def review():
    """Pairs of records that may be the same person, newest first."""
    limit = 100
    pairs = duplicates.review_list(current_user, limit=limit)
    page = render_template("patients/duplicates.html", pairs=pairs, limit=limit,
                           reason_labels=REASON_LABELS)
    db.session.commit()  # records compared for the first time stay compared (after rendering:
    return page          # a commit expires the records shown, which would each be read again)


def _pair(patient_id: int, other_id: int):
    """Both records, if the user may see both and they are two current records."""
    patient = get_patient(current_user, patient_id)
    other = get_patient(current_user, other_id)
    if patient.id == other.id:
        raise NotFound()
    return patient, other


def _merge_page(form, patient, other, status=200):
    older = min((patient, other), key=lambda p: (p.created_at, p.id))
    form.survivor.choices = [(p.id, p.full_name) for p in (patient, other)]
    if form.survivor.data not in (patient.id, other.id):
        form.survivor.data = older.id
    return render_template(
        "patients/merge.html", form=form, patient=patient, other=other, older=older,
        reasons=duplicates.match_reasons(patient, other), reason_labels=REASON_LABELS,
        inquiries={p.id: visible_inquiries_of(p) for p in (patient, other)}), status


@bp.route("/<int:patient_id>/merge/<int:other_id>", methods=["GET", "POST"])
def merge(patient_id: int, other_id: int):
    """Compare two records side by side; merge one into the other."""
    patient, other = _pair(patient_id, other_id)
    if patient.merged_into_id is not None or other.merged_into_id is not None:
        flash(_("One of these records has already been merged into another."), "warning")
        return redirect(url_for(".detail", patient_id=patient.id)), 303
    form = MergeForm()
    form.survivor.choices = [(patient.id, patient.full_name), (other.id, other.full_name)]
    if request.method == "GET":
        form.patient_version.data, form.other_version.data = patient.version, other.version
        for record in (patient, other):
            audit.record("view", actor=current_user, patient=record, detail="compare")
        db.session.commit()
        return _merge_page(form, patient, other)
    if not form.validate_on_submit():
        return _merge_page(form, patient, other, 422)
    survivor, duplicate = (patient, other) if form.survivor.data == patient.id else (other, patient)
    read_at = {patient.id: form.patient_version.data, other.id: form.other_version.data}
    try:
        duplicates.merge_patients(survivor, duplicate, actor=current_user,
                                  expected_versions=(read_at[survivor.id], read_at[duplicate.id]))
    except StaleVersion as error:
        db.session.rollback()
        patient, other = _pair(patient_id, other_id)
        form.form_errors.append(str(error.message))
        form.patient_version.data, form.other_version.data = patient.version, other.version
        return _merge_page(form, patient, other, 409)
    except ValidationError as error:
        db.session.rollback()
        apply_errors(form, error)
        return _merge_page(form, *_pair(patient_id, other_id), 422)
    db.session.commit()
    flash(_("The two records were merged into this one."), "success")
    return redirect(url_for(".detail", patient_id=survivor.id)), 303


@bp.route("/<int:patient_id>/not-duplicate/<int:other_id>", methods=["POST"])
def dismiss(patient_id: int, other_id: int):
    """Two records that are different people: stop flagging the pair (CSRF checked globally)."""
    patient, other = _pair(patient_id, other_id)
    duplicates.dismiss(patient, other, actor=current_user)
    db.session.commit()
    flash(_("Marked as different people: this pair will not be flagged again."), "success")
    target = safe_next(request.form.get("next")) or url_for(".detail", patient_id=patient.id)
    return redirect(target), 303
