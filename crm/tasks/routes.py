"""My tasks: overdue, today, upcoming; managers see everyone's load and overdue work."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..extensions import db
from ..services import followups

bp = Blueprint("tasks", __name__)


@bp.before_request
@login_required
def require_case_access():
    if not current_user.sees_cases:
        abort(403)


@bp.route("/")
def index():
    buckets = followups.my_tasks(current_user)
    team = followups.workload(current_user) if current_user.is_manager else None
    overdue = followups.overdue_tasks(current_user) if current_user.is_manager else None
    return render_template("tasks/index.html", buckets=buckets, team=team, overdue=overdue)


@bp.route("/<int:task_id>/complete", methods=["POST"])
def complete(task_id: int):
    task = followups.get_task(current_user, task_id)
    if followups.complete_task(task, actor=current_user):
        db.session.commit()
        flash(_("Task done: %(task)s", task=followups.task_label(task)), "success")
    target = request.form.get("next") or ""
    from ..auth.routes import safe_next
    return redirect(safe_next(target) or url_for(".index")), 303


@bp.route("/team/<int:user_id>/away", methods=["POST"])
def set_away(user_id: int):
    """Managers: mark a coordinator away and hand their open work to others, or back."""
    if not current_user.is_manager:
        abort(403)
    from ..models import User
    from ..services import routing
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None or user.role != "coordinator":
        abort(404)
    if request.form.get("away") == "1":
        routing.set_away(user, True, actor=current_user)
        moved = routing.reassign_open_work(user, actor=current_user)
        db.session.commit()
        flash(ngettext("%(name)s is away; %(num)d open case was handed over.",
                       "%(name)s is away; %(num)d open cases were handed over.", moved, name=user.name),
              "success")
    else:
        routing.set_away(user, False, actor=current_user)
        db.session.commit()
        flash(_("%(name)s is back and receives new cases again.", name=user.name), "success")
    return redirect(url_for(".index")), 303
