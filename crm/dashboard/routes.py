"""The managers' dashboard (coordinators see their own centers'), and ``crm dashboard rebuild``."""
from __future__ import annotations

import click
from flask import Blueprint, render_template, request
from flask_login import current_user

from ..auth.access import restrict, sees_cases
from ..extensions import db
from ..models.base import utcnow
from ..services import dashboard, dashboard_counts
from ..services.centers import active_centers
from ..services.errors import ValidationError
from . import view

bp = Blueprint("dashboard", __name__, cli_group="dashboard")
restrict(bp, sees_cases)
# the counts are kept in step with every write of any app that has the dashboard
bp.record_once(lambda _state: dashboard_counts.install())


@bp.route("/")
def index():
    centers = active_centers()
    try:
        filters = dashboard.filters_from_args(request.args)
    except ValidationError as error:
        return render_template("dashboard/index.html", errors=error.fields, args=request.args,
                               centers=centers, page=None), 422
    now = utcnow()
    figures = dashboard.figures(current_user, filters, now=now)
    today = now.astimezone(dashboard_counts.zone()).date()
    return render_template("dashboard/index.html", errors={}, args=request.args, centers=centers,
                           figures=figures, page=view.page(figures, centers, today))


@bp.cli.command("rebuild")
def rebuild():
    """Count the dashboard's figures again from the cases (after loading data in plain SQL, or
    changing CRM_TIMEZONE)."""
    counted = dashboard_counts.rebuild(db.session)
    db.session.commit()
    click.echo(f"inquiries counted: {counted}")

