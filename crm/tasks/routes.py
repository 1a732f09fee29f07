"""My tasks: overdue, today, upcoming; managers see everyone's load and overdue work."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..auth.access import restrict, safe_next, sees_cases
from ..extensions import db
from ..models import User
from ..services import followups, routing
from ..services.visibility import as_id

bp = Blueprint("tasks", __name__)
restrict(bp, sees_cases)


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
    return redirect(safe_next(target) or url_for(".index")), 303


@bp.route("/team/<int:user_id>/away", methods=["POST"])
def set_away(user_id: int):
    """Managers: mark a coordinator away and hand their open work to others, or back."""
    user = db.session.get(User, as_id(user_id)) or abort(404)
    away = request.form.get("away") == "1"
    moved = routing.set_away(user, away, actor=current_user)
    db.session.commit()
    if away:
        flash(ngettext("%(name)s is away; %(num)d open case was handed over.",
                       "%(name)s is away; %(num)d open cases were handed over.", moved, name=user.name),
              "success")
    else:
        flash(_("%(name)s is back and receives new cases again.", name=user.name), "success")
    return redirect(url_for(".index")), 303
