"""Sign-in (password, then a code from the authenticator app where it is on or required),
setting up the app at a first sign-in, and sign-out."""
from __future__ import annotations

import secrets
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..main.forms import apply_errors
from ..models import User
from ..services import two_factor, users
from ..services.errors import DomainError, ValidationError
from .access import safe_next
from .forms import CodeForm, EnrollForm, LoginForm

bp = Blueprint("auth", __name__)
#: The session key that holds a sign-in whose password was right, waiting for its code.
PENDING = "pending_sign_in"
#: How long the code may follow the password.
PENDING_SECONDS = 300


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data,
                                  max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                  lockout=current_app.config["LOGIN_LOCKOUT"])
        db.session.commit()
        if user is None:
            form.password.errors.append(_("Wrong email or password, or the account is locked "
                                          "for a few minutes after too many attempts."))
            return render_template("auth/login.html", form=form), 401
        session.clear()
        target = safe_next(form.next.data) or url_for("main.index")
        if users.needs_second_step(user):
            session[PENDING] = {"user": user.id, "token": user.session_token, "next": target,
                                "at": int(time.time())}
            return redirect(url_for(".code" if user.has_totp else ".setup"))
        return _signed_in(user, target)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _pending_user() -> User | None:
    """The user whose password was right a moment ago in this browser, if still valid."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    user = db.session.get(User, pending["user"])
    if (user is None or not user.is_active or time.time() - pending.get("at", 0) > PENDING_SECONDS
            or not secrets.compare_digest(user.session_token, str(pending.get("token", "")))):
        session.pop(PENDING, None)
        return None
    return user


def _signed_in(user: User, target: str):
    session.clear()
    login_user(user)
    session.permanent = True
    return redirect(target)


def _start_again():
    flash(_("Please sign in again: the code must follow the password within five minutes."), "info")
    return redirect(url_for(".login"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def code():
    user = _pending_user()
    if user is None:
        return _start_again()
    if not user.has_totp:
        return redirect(url_for(".setup"))
    form = CodeForm()
    if form.validate_on_submit():
        target = session[PENDING]["next"]
        method = users.complete_sign_in(user, form.code.data,
                                        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                        lockout=current_app.config["LOGIN_LOCKOUT"])
        left = two_factor.recovery_codes_left(user) if method == "recovery_code" else None
        db.session.commit()
        if method is not None:
            response = _signed_in(user, target)
            if left is not None:
                flash(_("You signed in with a recovery code; %(left)s are left. Make new ones on "
                        "your account page if you lost your phone.", left=left), "warning")
            return response
        form.code.errors.append(str(two_factor.WRONG_CODE))
        return render_template("auth/code.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


@bp.route("/login/setup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def setup():
    """A manager's or admin's first sign-in: set up the authenticator app, then sign in."""
    user = _pending_user()
    if user is None:
        return _start_again()
    if user.has_totp:
        return redirect(url_for(".code"))
    secret = two_factor.start_enrollment(user)
    db.session.commit()
    form = EnrollForm()
    if form.validate_on_submit():
        target = session[PENDING]["next"]
        try:
            codes = users.enroll_and_sign_in(user, form.code.data)
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        except DomainError:
            db.session.rollback()
            return _start_again()
        else:
            db.session.commit()
            _signed_in(user, target)
            return render_template("auth/recovery_codes.html", codes=codes, next=target)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/setup.html", form=form, **setup_context(user, secret)), status


def setup_context(user: User, secret: str) -> dict:
    """What the set-up page shows: the secret as text and as a QR code."""
    uri = two_factor.provisioning_uri(user, secret)
    return {"secret": two_factor.grouped(secret),
            "qr": two_factor.qr_svg(uri, _("QR code to scan with your authenticator app"))}


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    users.end_sessions(db.session.get(User, current_user.id))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))
