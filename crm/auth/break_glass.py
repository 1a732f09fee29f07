"""Break-glass: a coordinator's emergency access to one case outside their centers, and the
audit of every request made through it."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..main.forms import save_with
from ..services import break_glass
from ..services.formatting import local_time
from .access import restrict
from .forms import BreakGlassForm

bp = Blueprint("break_glass", __name__)
restrict(bp, lambda user: user.is_coordinator)


def _page(form, status=200):
    return render_template("auth/break_glass.html", form=form, minutes=break_glass.grant_minutes(),
                           grants=break_glass.running_grants(current_user)), status


@bp.route("/break-glass/", methods=["GET", "POST"])
def index():
    form = BreakGlassForm(reference=request.args.get("reference", "")[:20] or None)
    if form.validate_on_submit():
        saved, result = save_with(form, lambda: break_glass.request_access(
            current_user, form.reference.data, form.reason.data))
        if saved:
            inquiry, grant = result
            if grant is None:
                flash(_("This case is already yours to see: no emergency access is needed."), "info")
            else:
                flash(_("Emergency access to %(reference)s until %(time)s. Every page you open on it "
                        "is recorded, and the administrators are told.",
                        reference=inquiry.reference, time=local_time(grant.expires_at, "short")), "warning")
            return redirect(url_for("inquiries.detail", inquiry_id=inquiry.id)), 303
        return _page(form, 422)
    return _page(form, 422 if request.method == "POST" else 200)


@bp.after_app_request
def record_break_glass_uses(response):
    """Each case reached through a grant in this request: one audit event with the request,
    written once the request is answered (a refused action is recorded too)."""
    uses = g.pop("break_glass_uses", None)
    if uses:
        db.session.rollback()  # what the view left uncommitted would be dropped anyway
        detail = f"{request.method} {request.endpoint or '-'} {response.status_code}"
        for user, inquiry in uses.values():
            break_glass.record_use(user, inquiry, detail=detail)
        db.session.commit()
    return response
