"""Administration: staff accounts and centers of excellence."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import is_admin, restrict
from ..extensions import db
from ..i18n import UI_LOCALES
from ..inquiries.forms import current_locale
from ..main.forms import save_with
from ..models import Center, User
from ..services import break_glass, staff, users
from ..services.visibility import as_id
from .forms import CenterForm, UserForm, keyword_fields, name_fields

bp = Blueprint("admin", __name__)
restrict(bp, is_admin)


@bp.route("/")
def index():
    all_users = db.session.scalars(select(User).order_by(User.is_active.desc(), User.name)).all()
    centers = db.session.scalars(select(Center).order_by(Center.position, Center.key)).all()
    return render_template("admin/index.html", users=all_users, centers=centers,
                           break_glass_grants=break_glass.recent_grants())


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    form = UserForm()
    form.set_choices(db.session.scalars(select(Center).order_by(Center.position)).all(), current_locale())
    if form.validate_on_submit():
        saved, user = save_with(form, lambda: users.create_user(
            form.email.data, name=form.name.data, role=form.role.data, password=form.password.data,
            center_keys=form.centers.data, languages=form.languages.data,
            ui_locale=form.ui_locale.data))
        if saved:
            flash(_("Account for %(name)s created.", name=user.name), "success")
            return redirect(url_for(".index")), 303
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.session.get(User, as_id(user_id)) or abort(404)
    form = UserForm(obj=user if request.method == "GET" else None)
    form.set_choices(db.session.scalars(select(Center).order_by(Center.position)).all(), current_locale())
    if request.method == "GET":
        form.centers.data = [c.key for c in user.centers]
        form.languages.data = user.languages
        form.ui_locale.data = user.ui_locale or ""
    elif form.validate_on_submit():
        saved, _result = save_with(form, lambda: staff.update_user(
            user, name=form.name.data, email=form.email.data, role=form.role.data,
            center_keys=form.centers.data, languages=form.languages.data,
            ui_locale=form.ui_locale.data, is_active=form.is_active.data,
            password=form.password.data or None, actor=current_user, is_away=form.is_away.data))
        if saved:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".index")), 303
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/centers/new", methods=["GET", "POST"], defaults={"center_id": None})
@bp.route("/centers/<int:center_id>", methods=["GET", "POST"])
def edit_center(center_id):
    center = (db.session.get(Center, as_id(center_id)) or abort(404)) if center_id else None
    form = CenterForm(obj=center if request.method == "GET" else None)
    if request.method == "GET" and center:
        for code in UI_LOCALES:
            getattr(form, f"name_{code}").data = center.names.get(code, "")
        for code, field in keyword_fields(form):
            field.data = ", ".join((center.keywords or {}).get(code, []))
    elif form.validate_on_submit():
        names = {code: getattr(form, f"name_{code}").data for code in UI_LOCALES}
        keywords = {code: field.data or "" for code, field in keyword_fields(form)}
        saved, _center = save_with(form, lambda: staff.save_center(
            center, key=form.key.data, names=names, is_active=form.is_active.data, keywords=keywords))
        if saved:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".index")), 303
    status = 422 if request.method == "POST" else 200
    return render_template("admin/center_form.html", form=form, center=center,
                           name_fields=name_fields(form), keyword_fields=keyword_fields(form)), status


@bp.route("/mail")
def mail():
    """The quarantine (mail that could not be read, kept whole) and mail that could not be sent."""
    from ..models import InboundMail, OutboundMail
    quarantine = db.session.scalars(select(InboundMail).where(InboundMail.outcome == "rejected")
                                    .order_by(InboundMail.received_at.desc()).limit(200)).all()
    failed = db.session.scalars(select(OutboundMail).where(OutboundMail.status == "failed")
                                .order_by(OutboundMail.created_at.desc()).limit(200)).all()
    waiting = db.session.scalar(select(func.count(OutboundMail.id)).where(OutboundMail.status == "queued"))
    return render_template("admin/mail.html", quarantine=quarantine, failed=failed, waiting=waiting)


@bp.route("/mail/<int:mail_id>.eml")
def quarantined_message(mail_id: int):
    """A quarantined message as received, to read it in a mail program (audited)."""
    from ..models import InboundMail
    from ..services import audit
    record = db.session.get(InboundMail, as_id(mail_id))
    if record is None or record.outcome != "rejected":
        abort(404)
    audit.record("download", actor=current_user, detail=f"inbound_mail={record.id}")
    db.session.commit()
    return Response(record.raw, mimetype="message/rfc822",
                    headers={"Content-Disposition": f"attachment; filename=message-{record.id}.eml"})


@bp.route("/mail/<int:mail_id>/retry", methods=["POST"])
def retry_message(mail_id: int):
    """Read a quarantined message again (after a fix); it leaves the quarantine if it can be read."""
    from ..models import InboundMail
    from ..services.mailbox import read_again
    record = db.session.get(InboundMail, as_id(mail_id))
    if record is None or record.outcome != "rejected":
        abort(404)
    outcome = read_again(record)
    db.session.commit()
    if outcome == "rejected":
        flash(_("The message still cannot be read; it stays in the quarantine."), "warning")
    else:
        flash(_("The message was read and filed."), "success")
    return redirect(url_for(".mail")), 303


@bp.route("/mail/outbox/<int:mail_id>/retry", methods=["POST"])
def resend(mail_id: int):
    """Try again to deliver a message that failed."""
    from ..models import OutboundMail
    from ..services.outbox import send_again
    row = db.session.get(OutboundMail, as_id(mail_id))
    if row is None or row.status != "failed":
        abort(404)
    send_again(row)
    db.session.commit()
    flash(_("The message will be sent again in a minute."), "success")
    return redirect(url_for(".mail")), 303


from . import audit as _audit_routes  # noqa: E402,F401  (the audit trail: registers on bp)
