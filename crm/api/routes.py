"""The JSON API under /api/v1, for integrations: bearer tokens, contract field names."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..extensions import csrf, db
from ..models import Inquiry, Task
from ..models.inquiry import SOURCES
from ..services import audit, followups, intake, journey, pipeline, review, worklist
from ..services.errors import ValidationError
from ..services.facts import Facts
from ..services.users import user_for_token
from ..services.visibility import get_inquiry
from ..main.errors import json_error
from .schemas import inquiry_json, task_json, timeline_json

bp = Blueprint("api", __name__)
csrf.exempt(bp)
PAGE_MAX = 200
NESTED = {"referring_physician": {"name": "referring_name", "email": "referring_email",
                                  "institution": "referring_institution",
                                  "country": "referring_country"}}
#: What a new inquiry is made of (the contract's fields); anything else in the body is ignored:
#: ids, versions, stages and coordinators are the system's to set.
CREATE_FIELDS = frozenset((*intake.PATIENT_FIELDS, "mrn", "service", "center", "reason", *intake.REFERRING_FIELDS,
                           "source", "consent"))


@bp.before_request
def authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return json_error("unauthorized", _("A valid API token is required."), 401)
    g.api_user = user
    g.origin = f"api {request.remote_addr or ''}"[:64]
    if not user.sees_cases:
        return json_error("forbidden", _("This account has no access to cases."), 403)


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("body", _("Send a JSON object with Content-Type: application/json."))
    return body


def flatten(body: dict) -> tuple[dict, dict]:
    """The service's flat field names from the contract's nested JSON, and the way back."""
    data, paths = {}, {}
    patient = body.get("patient")
    if patient is not None and not isinstance(patient, dict):
        raise ValidationError("patient", _("This must be an object."))
    if patient is not None:
        paths.update({f: f"patient.{f}" for f in intake.PATIENT_FIELDS + ("mrn",)})
    for key, value in (patient or {}).items():
        data[key], paths[key] = value, f"patient.{key}"
    for key, value in body.items():
        if key in NESTED:
            paths.update({flat: f"{key}.{sub}" for sub, flat in NESTED[key].items()})
            if value is not None and not isinstance(value, dict):
                raise ValidationError(key, _("This must be an object."))
            for sub, flat in NESTED[key].items():
                if value and sub in value:
                    data[flat], paths[flat] = value[sub], f"{key}.{sub}"
        elif key != "patient":
            data.setdefault(key, value)
            paths.setdefault(key, key)
    return data, paths


@bp.route("/inquiries", methods=["POST"])
def create_inquiry():
    body = json_body()
    data, paths = flatten(body)
    data = {key: value for key, value in data.items() if key in CREATE_FIELDS}
    source = data.pop("source", None) or "api"
    if source not in SOURCES:
        raise ValidationError("source", _("Choose one of: %(choices)s.", choices=", ".join(SOURCES)))
    try:
        inquiry = intake.create_inquiry(data, source=source, actor=g.api_user,
                                        consent=bool(data.get("consent")))
    except ValidationError as error:
        error.fields = {paths.get(k, k): v for k, v in error.fields.items()}
        raise
    db.session.commit()
    response = jsonify(inquiry_json(inquiry))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_inquiry_detail", inquiry_id=inquiry.id)
    return response


def decode_cursor(value: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(value.encode() + b"==="))
        before = int(data["before"])
        if not 0 < before <= 2**31:
            raise ValueError
        return before
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationError("cursor", _("This cursor is not valid: start again without it.")) from None


def encode_cursor(before_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": before_id}).encode()).decode().rstrip("=")


@bp.route("/inquiries", methods=["GET"])
def list_inquiries():
    args = request.args
    errors = {}
    if args.get("stage") and args["stage"] not in pipeline.STAGES:
        errors["stage"] = _("Unknown stage.")
    if args.get("updated_since"):
        try:
            since = datetime.fromisoformat(args["updated_since"])
            if since.tzinfo is None:
                errors["updated_since"] = _("Give a time zone, like 2026-01-31T09:00:00+00:00.")
        except ValueError:
            errors["updated_since"] = _("Use an ISO 8601 time, like 2026-01-31T09:00:00+00:00.")
    limit = args.get("limit", 50)
    try:
        limit = int(limit)
        if not 1 <= limit <= PAGE_MAX:
            raise ValueError
    except ValueError:
        errors["limit"] = _("Use a whole number from 1 to %(max)s.", max=PAGE_MAX)
    if errors:
        raise ValidationError(fields=errors)
    coordinator = args.get("coordinator", "")
    if coordinator and coordinator != "me" and not coordinator.isdigit():
        raise ValidationError("coordinator", _("Use a coordinator id or \"me\"."))
    filters = worklist.filters_from_args(args, g.api_user)
    stmt = worklist.filtered(g.api_user, filters)
    if args.get("cursor"):
        stmt = stmt.where(Inquiry.id < decode_cursor(args["cursor"]))
    stmt = stmt.options(joinedload(Inquiry.patient), joinedload(Inquiry.center),
                        joinedload(Inquiry.coordinator)).order_by(Inquiry.id.desc()).limit(limit + 1)
    rows = list(db.session.scalars(stmt).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(items=[inquiry_json(i) for i in rows],
                   next=encode_cursor(rows[-1].id) if more else None)


@bp.route("/inquiries/<int:inquiry_id>", methods=["GET"])
def get_inquiry_detail(inquiry_id: int):
    inquiry = get_inquiry(g.api_user, inquiry_id)
    audit.record("view", actor=g.api_user, inquiry=inquiry)
    db.session.commit()
    body = inquiry_json(inquiry)
    body["allowed_moves"] = pipeline.allowed_moves(inquiry, g.api_user)
    facts = Facts(inquiry)
    # what holds the case back, as the case page shows it: each step's state and reason
    body["journey"] = [{"key": step.key, "label": str(step.label), "stage": step.stage,
                        "state": step.state, "reason": step.reason,
                        "summary": str(step.summary) if step.summary else None}
                       for step in journey.journey(inquiry, facts)]
    blocked = pipeline.blocked_moves(inquiry, body["allowed_moves"], facts)
    body["blocked_moves"] = {to: {"code": error.code, "message": str(error.message)}
                             for to, error in blocked.items()}
    body["open_tasks"] = [task_json(t) for t in followups.open_tasks_of(inquiry)]
    body["timeline"] = timeline_json(worklist.timeline(inquiry, reviews=facts.reviews))
    return jsonify(body)


@bp.route("/inquiries/<int:inquiry_id>/transition", methods=["POST"])
def transition(inquiry_id: int):
    body = json_body()
    inquiry = get_inquiry(g.api_user, inquiry_id, for_update=True)
    if "to" not in body:
        raise ValidationError("to", _("This field is required."))
    if "version" not in body:
        raise ValidationError("version", _("This field is required."))
    if not isinstance(body.get("version"), int) or isinstance(body.get("version"), bool):
        raise ValidationError("version", _("This must be a whole number."))
    if not isinstance(body.get("note") or "", str):
        raise ValidationError("note", _("This must be text."))
    pipeline.transition_inquiry(inquiry, str(body["to"]), actor=g.api_user,
                                expected_version=body["version"],
                                outcome=body.get("outcome") or None, note=body.get("note"))
    db.session.commit()
    return jsonify(inquiry_json(inquiry))


@bp.route("/inquiries/<int:inquiry_id>/review", methods=["POST"])
def review_inquiry(inquiry_id: int):
    """The clinical review: ``{"reviewer_id": N}`` or ``{"reviewer_name": "..."}`` names the
    reviewing physician; with ``"decision"`` (``accept``, ``decline`` with ``reason``,
    ``more_records`` with ``items``) and ``version``, records their decision. → 200 with the case."""
    body = json_body()
    inquiry = get_inquiry(g.api_user, inquiry_id, for_update=True)
    errors = {}
    for key in ("decision", "reviewer_name", "reason"):
        if body.get(key) is not None and not isinstance(body[key], str):
            errors[key] = _("This must be text.")
    if body.get("reviewer_id") is not None and (not isinstance(body["reviewer_id"], int)
                                                or isinstance(body["reviewer_id"], bool)):
        errors["reviewer_id"] = _("This must be a whole number.")
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        errors["items"] = _("This must be a list of texts.")
    if body.get("decision"):
        if "version" not in body:
            errors["version"] = _("This field is required.")
        elif not isinstance(body["version"], int) or isinstance(body["version"], bool):
            errors["version"] = _("This must be a whole number.")
    if errors:
        raise ValidationError(fields=errors)
    if body.get("decision"):
        review.record_decision(inquiry, body["decision"], actor=g.api_user, expected_version=body["version"],
                               reason=body.get("reason") or "", items=items,
                               reviewer_id=body.get("reviewer_id"), reviewer_name=body.get("reviewer_name"))
    else:
        review.name_reviewer(inquiry, actor=g.api_user, reviewer_id=body.get("reviewer_id"),
                             reviewer_name=body.get("reviewer_name"))
    db.session.commit()
    return jsonify(inquiry_json(inquiry))


@bp.route("/tasks", methods=["GET"])
def list_tasks():
    """Tasks of the cases the token's owner may see: ``assignee=me``, ``status``, ``due_before``."""
    args, errors = request.args, {}
    stmt = followups.visible_tasks(g.api_user)
    if args.get("assignee"):
        if args["assignee"] == "me":
            stmt = stmt.where(Task.assignee_id == g.api_user.id)
        elif args["assignee"].isdigit() and len(args["assignee"]) < 10:
            stmt = stmt.where(Task.assignee_id == int(args["assignee"]))
        else:
            errors["assignee"] = _("Use a user id or \"me\".")
    status = args.get("status", "open")
    if status not in ("open", "done", "cancelled", "all"):
        errors["status"] = _("Choose one of: %(choices)s.", choices="open, done, cancelled, all")
    elif status != "all":
        stmt = stmt.where(Task.state == status)
    if args.get("due_before"):
        try:
            before = datetime.fromisoformat(args["due_before"])
            if before.tzinfo is None:
                raise ValueError
            stmt = stmt.where(Task.due_at < before)
        except ValueError:
            errors["due_before"] = _("Use an ISO 8601 time, like 2026-01-31T09:00:00+00:00.")
    if errors:
        raise ValidationError(fields=errors)
    tasks = db.session.scalars(stmt.options(joinedload(Task.assignee)).order_by(Task.due_at, Task.id)
                               .limit(PAGE_MAX)).all()
    return jsonify(items=[task_json(t) for t in tasks])


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
def complete_task(task_id: int):
    task = followups.get_task(g.api_user, task_id)
    followups.complete_task(task, actor=g.api_user)
    db.session.commit()
    return jsonify(task_json(task))


@bp.route("/mail/inbound", methods=["POST"])
def mail_inbound():
    """One raw RFC 5322 message (``Content-Type: message/rfc822``) → 202 with the summary."""
    from ..services.mailbox import Summary, ingest
    if request.mimetype != "message/rfc822":
        raise ValidationError("body", _("Send one raw message with Content-Type: message/rfc822."))
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise ValidationError("body", _("The message is empty."))
    summary = Summary()
    summary.add(ingest(raw, source="api"))
    db.session.commit()
    return jsonify(summary.as_dict()), 202


@bp.route("/inquiries/<int:inquiry_id>/fhir", methods=["GET"])
def get_inquiry_fhir(inquiry_id: int):
    """The inquiry as a FHIR R4 Bundle (``application/fhir+json``); the export is audited."""
    from flask import Response

    from ..services import fhir
    inquiry = get_inquiry(g.api_user, inquiry_id)
    bundle = fhir.export_inquiry(inquiry, actor=g.api_user)
    db.session.commit()
    return Response(json.dumps(bundle, ensure_ascii=False), content_type=fhir.MEDIA_TYPE)


@bp.route("/dashboard", methods=["GET"])
def get_dashboard():
    """The dashboard's figures, as on the page: filters ``from``, ``to`` (ISO dates of creation,
    the center's time zone) and ``center`` (a center's key)."""
    from ..services import dashboard
    filters = dashboard.filters_from_args(request.args)
    return jsonify(dashboard.as_json(dashboard.figures(g.api_user, filters)))
