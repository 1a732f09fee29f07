"""My tasks: overdue, today, upcoming; managers see everyone's load and overdue work."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
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
