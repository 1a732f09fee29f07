"""The signed-in user's own account: password, two-step sign-in, recovery codes; an admin's
reset of someone's two-step sign-in (a lost phone)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from ..extensions import db, limiter
from ..main.forms import apply_errors, save_with
from ..models import User
from ..services import two_factor, users
from ..services.errors import ValidationError
from ..services.visibility import as_id
from .forms import ConfirmPasswordForm, EnrollForm, PasswordForm
from .routes import setup_context

bp = Blueprint("account", __name__)


@bp.before_request
@login_required
def signed_in_only():
    """Every page here is about the signed-in user's own account."""


def _me() -> User:
    return db.session.get(User, current_user.id)


def _page(password_form=None, status=200):
    me = _me()
    return render_template(
        "auth/account.html", password_form=password_form or PasswordForm(formdata=None),
        confirm_form=ConfirmPasswordForm(formdata=None),
        recovery_left=two_factor.recovery_codes_left(me) if me.has_totp else 0), status


@bp.route("/account/")
def index():
    return _page()


@bp.route("/account/password", methods=["POST"])
@limiter.limit("10 per minute")
def password():
    """Change one's password: every other session of the account ends; this one goes on."""
    form = PasswordForm()
    me = _me()
    if form.validate_on_submit():
        saved, _result = save_with(form, lambda: users.change_password(
            me, form.current_password.data, form.password.data))
        if saved:
            login_user(me)  # this browser gets a cookie with the new session token
            flash(_("Password changed. You are signed out everywhere else."), "success")
            return redirect(url_for(".index")), 303
    return _page(password_form=form, status=422)


@bp.route("/account/two-step", methods=["GET", "POST"])
def two_step():
    """A coordinator turns two-step sign-in on (managers and admins did at their first sign-in)."""
    me = _me()
    if me.has_totp:
        return redirect(url_for(".index"))
    secret = two_factor.start_enrollment(me)
    db.session.commit()
    form = EnrollForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrollment(me, form.code.data)
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, next=url_for(".index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/setup.html", form=form, **setup_context(me, secret)), status


def _confirmed(form: ConfirmPasswordForm, me: User) -> bool:
    if form.validate_on_submit() and users.check_password(me, form.password.data):
        return True
    flash(_("This is not your current password."), "danger")
    return False


@bp.route("/account/two-step/off", methods=["POST"])
@limiter.limit("10 per minute")
def two_step_off():
    me = _me()
    if not me.has_totp or me.needs_totp:
        abort(403)
    form = ConfirmPasswordForm()
    if _confirmed(form, me):
        two_factor.turn_off(me, actor=me)
        db.session.commit()
        flash(_("Two-step sign-in is off."), "success")
    return redirect(url_for(".index")), 303


@bp.route("/account/recovery-codes", methods=["POST"])
@limiter.limit("10 per minute")
def recovery_codes():
    """New recovery codes (the old ones stop working), shown once."""
    me = _me()
    if not me.has_totp:
        abort(403)
    form = ConfirmPasswordForm()
    if not _confirmed(form, me):
        return redirect(url_for(".index")), 303
    codes = two_factor.new_recovery_codes(me)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, next=url_for(".index"))


@bp.route("/admin/users/<int:user_id>/two-step/reset", methods=["POST"])
def reset_two_step(user_id: int):
    """An admin resets someone's two-step sign-in (lost phone and codes): that person is signed
    out and sets it up again at their next sign-in."""
    if not current_user.is_admin:
        abort(403)
    user = db.session.get(User, as_id(user_id)) or abort(404)
    if not user.has_totp and not user.totp_secret:
        return redirect(url_for("admin.edit_user", user_id=user.id)), 303
    two_factor.turn_off(user, actor=_me(), reset=True)  # CSRF: checked for every POST
    db.session.commit()
    flash(_("Two-step sign-in of %(name)s is reset: they set it up again at their next sign-in.",
            name=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id)), 303
