"""The coordinators' screens for inquiries: board, list, register, detail, edit, move, note."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import labels
from ..auth.access import restrict, sees_cases
from ..extensions import db
from ..models import User
from ..main.forms import apply_errors, save_with
from ..services import audit, conversation, export, followups, intake, pipeline, routing, worklist
from ..services.centers import active_centers
from ..services.errors import DomainError, StaleVersion, ValidationError
from ..services.facts import Facts
from ..services.visibility import get_inquiry
from . import steps
from .forms import (ReplyForm,
    InquiryCreateForm,
    InquiryEditForm,
    NoteForm,
    TransitionForm,
    current_locale,
)

bp = Blueprint("inquiries", __name__)
restrict(bp, sees_cases)


SEARCH_KEY = "inquiry_search"


def parse_filters(args) -> worklist.Filters:
    """The filters of the query string; the search text never travels in a URL (it would be
    patient data in logs and history): it comes from the session, set by ``search``."""
    args = args.copy()
    args.pop("q", None)
    if args.get("search") == "1" and session.get(SEARCH_KEY):
        args["q"] = session[SEARCH_KEY]
    return worklist.filters_from_args(args, current_user)


@bp.route("/search", methods=["POST"])
def search():
    """Remember the search text in the session and show the list filtered by it."""
    text = (request.form.get("q") or "").strip()[:100]
    if not text:
        session.pop(SEARCH_KEY, None)
        return redirect(url_for(".index")), 303
    session[SEARCH_KEY] = text
    return redirect(url_for(".index", search="1")), 303


def filter_context():
    return {"centers": active_centers(), "stages": pipeline.STAGES, "sorts": worklist.SORTS,
            "locale": current_locale()}


@bp.route("/board")
def board():
    filters = parse_filters(request.args)
    columns = worklist.board(current_user, filters,
                             per_stage=current_app.config["BOARD_CARDS_PER_STAGE"])
    return render_template("inquiries/board.html", columns=columns, filters=filters,
                           is_stalled=worklist.is_stalled, **filter_context())


@bp.route("/")
def index():
    filters = parse_filters(request.args)
    page = worklist.list_inquiries(current_user, filters, page=request.args.get("page", 1, type=int),
                                   per_page=current_app.config["PAGE_SIZE"])
    return render_template("inquiries/index.html", page=page, filters=filters,
                           is_stalled=worklist.is_stalled, **filter_context())


@bp.route("/export.csv")
def export_csv():
    """The list's inquiries as CSV, streamed; audited when the last row is sent, or as failed."""
    filters = parse_filters(request.args)
    # the user's scope is read into the query now: the user's row dies with the request
    rows = export.csv_lines(current_user, filters, batch=current_app.config.get("EXPORT_BATCH", 1000))
    body = audited_export(rows, actor_id=current_user.id, origin=audit.current_origin(),
                          address=request.remote_addr)
    # The request's session is done with (nothing was written): closed now rather than at its
    # teardown, so that nothing of it is open while the body reads in a transaction of its own
    # (on SQLite that one would wait for the write lock this one holds).
    db.session.close()
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=inquiries.csv"})


def audited_export(rows: export.CsvExport, *, actor_id: int, origin: str | None,
                   address: str | None = None):
    """The response body of an export. It is sent after the request's context (and its
    session) is gone, so it runs in an app context of its own, with its own session, and it
    needs only plain values. The audit trail gets ``export`` once every row is out, and
    ``export_failed`` when the export broke off (an error, or the client left)."""
    context = current_app.app_context()

    def record(action: str, detail: str) -> None:
        audit.record(action, actor=db.session.get(User, actor_id), origin=origin, address=address,
                     detail=detail)
        db.session.commit()

    def generate():
        with context:
            try:
                for chunk in rows:
                    db.session.rollback()  # nothing is held open while the chunk is sent
                    yield chunk
                record("export", f"csv rows={rows.rows}")
            except BaseException:  # GeneratorExit too: what was sent so far left the center
                db.session.rollback()
                try:
                    record("export_failed", f"csv rows={rows.rows}")
                except Exception:  # noqa: BLE001 - the export's own error is the one to raise
                    db.session.rollback()
                    current_app.logger.exception("the failed export could not be audited")
                raise

    return generate()


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = InquiryCreateForm()
    form.set_choices(active_centers(), worklist.coordinators_for(current_user), current_locale())
    if form.validate_on_submit():
        data = {**form.patient_data(), **form.case_data(), "mrn": form.mrn.data}
        saved, inquiry = save_with(form, lambda: intake.create_inquiry(
            data, source=form.source.data, actor=current_user))
        if saved:
            flash(_("Inquiry %(ref)s registered.", ref=inquiry.reference), "success")
            return redirect(url_for(".detail", inquiry_id=inquiry.id))
    elif request.method == "GET":
        form.preferred_language.data = "en"
        form.source.data = "phone"
    status = 422 if request.method == "POST" else 200
    return render_template("inquiries/create.html", form=form), status


def detail_context(inquiry, **forms):
    moves = pipeline.allowed_moves(inquiry, current_user)
    # the forms not submitted are built empty: a refused reply never fills the note box
    transition_form = forms.get("transition_form") or TransitionForm(formdata=None, version=inquiry.version)
    facts = Facts(inquiry, checklist=conversation.checklist(inquiry))
    documents = conversation.documents_of(inquiry)
    return {"inquiry": inquiry, "patient": inquiry.patient, "moves": moves,
            **steps.context(inquiry, facts, documents, moves, forms),
            "timeline": worklist.timeline(inquiry, reviews=facts.reviews, care=_care.loaded(inquiry, facts)), "transition_form": transition_form,
            "note_form": forms.get("note_form") or NoteForm(formdata=None), "stalled": worklist.is_stalled(inquiry),
            "path": pipeline.path_for(inquiry.service),
            "open_tasks": followups.open_tasks_of(inquiry),
            "suggestion": routing.suggest_center(inquiry) if inquiry.center is None else None,
            "centers": active_centers() if inquiry.center is None else [],  # the routing card's
            "locale": current_locale(),
            "messages": conversation.thread(inquiry), "checklist": facts.checklist,
            "documents": documents,
            "reply_form": forms.get("reply_form") or ReplyForm(formdata=None),
            **_care.context(inquiry, facts, forms)}  # money, appointments, travel, the online opinion


@bp.route("/<int:inquiry_id>")
def detail(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    audit.record("view", actor=current_user, inquiry=inquiry)
    # committed before the page is built: while an audit event waits for its commit, every
    # query of the request is checked for whether it reads the trail (services.audit)
    db.session.commit()
    return render_template("inquiries/detail.html", **detail_context(inquiry))


@bp.route("/<int:inquiry_id>/transition", methods=["POST"])
def transition(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            to = form.to.data
            pipeline.transition_inquiry(inquiry, to, actor=current_user,
                                        expected_version=form.version.data,
                                        outcome=(form.outcome.data or None) if to == "closed" else None,
                                        note=form.note.data)
        except StaleVersion as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303
        else:
            db.session.commit()
            flash(_("Moved to %(stage)s.", stage=labels.STAGE_LABELS[inquiry.stage]), "success")
            return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303
    inquiry = get_inquiry(current_user, inquiry_id)
    return render_template("inquiries/detail.html",
                           **detail_context(inquiry, transition_form=form)), 422


@bp.route("/<int:inquiry_id>/notes", methods=["POST"])
def add_note(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id)
    form = NoteForm()
    if form.validate_on_submit():
        saved, _note = save_with(form, lambda: intake.add_note(inquiry, form.body.data,
                                                                actor=current_user))
        if saved:
            flash(_("Note added."), "success")
            return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303
    inquiry = get_inquiry(current_user, inquiry_id)
    return render_template("inquiries/detail.html", **detail_context(inquiry, note_form=form)), 422


@bp.route("/<int:inquiry_id>/edit", methods=["GET", "POST"])
def edit(inquiry_id: int):
    inquiry = get_inquiry(current_user, inquiry_id, for_update=request.method == "POST")
    form = InquiryEditForm(obj=inquiry if request.method == "GET" else None)
    form.set_choices(active_centers(), worklist.coordinators_for(current_user), current_locale())
    if request.method == "GET":
        form.center.data = inquiry.center.key if inquiry.center else ""
        form.coordinator_id.data = str(inquiry.coordinator_id or "")
        form.version.data = inquiry.version
    elif form.validate_on_submit():
        saved, changed = save_with(form, lambda: intake.update_inquiry(
            inquiry, form.case_data(), actor=current_user, expected_version=form.version.data))
        if saved:
            flash(_("Changes saved.") if changed else _("Nothing to change."), "success")
            return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303
        inquiry = get_inquiry(current_user, inquiry_id)
    status = 422 if request.method == "POST" else 200
    return render_template("inquiries/edit.html", form=form, inquiry=inquiry), status


@bp.route("/<int:inquiry_id>/route", methods=["POST"])
def route(inquiry_id: int):
    """Send an inquiry from the triage queue to a center (or re-route it)."""
    inquiry = get_inquiry(current_user, inquiry_id, for_update=True)
    center = next((c for c in active_centers() if c.key == request.form.get("center")), None)
    if center is None:
        flash(_("Choose one of the centers offered."), "danger")
        return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303
    try:
        routing.route_by_hand(inquiry, center, actor=current_user,
                              expected_version=request.form.get("version"))
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("Routed to %(center)s.", center=center.name_in(current_locale())), "success")
    return redirect(url_for(".detail", inquiry_id=inquiry_id)), 303


from . import conversation as _conversation_routes  # noqa: E402,F401  (registers on bp)
from . import step_actions as _step_routes  # noqa: E402,F401  (registers on bp)
from . import care as _care  # noqa: E402  (the journey's later steps: their cards)
from . import care_actions as _care_routes  # noqa: E402,F401  (registers on bp)
