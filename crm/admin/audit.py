"""The audit trail for admins: who did what to which record, filtered, page by page; as CSV."""
from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services import audit, audit_search
from ..services.visibility import MAX_ID
from .audit_forms import ACTION_LABELS, OUTCOME_LABELS, RECORD_LABELS, SERVICE_LABELS, AuditFilterForm
from .routes import bp

PAGE_SIZE = 50


def _form() -> tuple[AuditFilterForm, bool]:
    form = AuditFilterForm(request.args)
    form.set_choices(db.session.scalars(select(User).order_by(User.name, User.id)).all())
    return form, form.validate()


def _detail(filters: audit_search.Filters, what: str) -> str:
    names = filters.names()
    return f"{what} filters={','.join(names)}" if names else what


def _screen(form, page, status=200):
    args = {k: v for k, v in request.args.items() if k != "before"}
    return render_template("admin/audit.html", form=form, page=page, args=args,
                           action_labels=ACTION_LABELS, outcome_labels=OUTCOME_LABELS,
                           record_labels=RECORD_LABELS, service_labels=SERVICE_LABELS), status


@bp.route("/audit")
def audit_trail():
    """The trail, newest first, ``PAGE_SIZE`` events a page (``?before=ID`` goes on below)."""
    form, valid = _form()
    if not valid:
        return _screen(form, None, 422)
    filters = form.filters()
    before = request.args.get("before", type=int)
    page = audit_search.page(filters, before=before if before and 0 < before <= MAX_ID else None,
                             limit=PAGE_SIZE)
    html = _screen(form, page)
    # recorded once the page is drawn: a commit first would expire every event shown
    audit.record("view", actor=current_user, record_type="audit_trail", detail=_detail(filters, "screen"))
    db.session.commit()
    return html


@bp.route("/audit/export.csv")
def audit_export():
    """Every event that matches the filters as CSV, streamed; the download is audited once it
    is whole (``export``), or as ``export_failed`` when it broke off."""
    form, valid = _form()
    if not valid:
        return _screen(form, None, 422)
    filters = form.filters()
    rows = audit_search.CsvExport(filters, batch=current_app.config.get("EXPORT_BATCH", 1000))
    body = _audited(rows, actor_id=current_user.id, origin=audit.current_origin(),
                    address=request.remote_addr, detail=_detail(filters, "csv"))
    db.session.close()  # the body reads in a session of its own, after the request
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-trail.csv"})


def _audited(rows: audit_search.CsvExport, *, actor_id: int, origin, address, detail: str):
    """The response body, sent after the request's context is gone: it runs in an app context
    of its own and needs plain values only."""
    context = current_app.app_context()

    def record(action: str) -> None:
        audit.record(action, actor=db.session.get(User, actor_id), record_type="audit_trail", origin=origin,
                     address=address, detail=f"{detail} rows={rows.rows}")
        db.session.commit()

    def generate():
        with context:
            try:
                for chunk in rows:
                    db.session.rollback()  # nothing held open while the chunk is sent
                    yield chunk
                record("export")
            except BaseException:  # GeneratorExit too: what was sent so far left the center
                db.session.rollback()
                try:
                    record("export_failed")
                except Exception:  # noqa: BLE001 - the export's own error is the one to raise
                    db.session.rollback()
                    current_app.logger.exception("the failed audit export could not be audited")
                raise

    return generate()

