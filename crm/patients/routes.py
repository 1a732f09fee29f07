"""The patient page: who they are and every inquiry of theirs the user may see."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import restrict, sees_cases
from ..extensions import db
from ..inquiries.forms import PatientEditForm
from ..main.forms import save_with
from ..models import Inquiry
from ..services import audit, intake
from ..services.visibility import get_patient, inquiry_scope

bp = Blueprint("patients", __name__)
restrict(bp, sees_cases)


@bp.route("/<int:patient_id>")
def detail(patient_id: int):
    patient = get_patient(current_user, patient_id)
    inquiries = db.session.scalars(
        db.select(Inquiry).where(Inquiry.patient_id == patient.id, inquiry_scope(current_user))
        .order_by(Inquiry.created_at.desc())).all()
    audit.record("view", actor=current_user, patient=patient)
    db.session.commit()
    return render_template("patients/detail.html", patient=patient, inquiries=inquiries)


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
def edit(patient_id: int):
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
