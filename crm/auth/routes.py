"""Sign-in and sign-out."""
from __future__ import annotations

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
from ..models import User
from ..services import users
from .access import safe_next
from .forms import LoginForm

bp = Blueprint("auth", __name__)


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
        login_user(user)
        session.permanent = True
        return redirect(safe_next(form.next.data) or url_for("main.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    users.end_sessions(db.session.get(User, current_user.id))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))
