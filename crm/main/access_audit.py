"""Every request that reaches a patient's record, or a list of them, is on the audit trail:
in one place, after the view has answered.

A request whose URL names a record (``<inquiry_id>``, ``<patient_id>``, ``<task_id>``…) or that
shows a list of patients' cases (``LISTS``) is audited here unless the view (or a service it
called) already committed an event of its own, such as ``view`` on the case page, ``download``
or ``transition``. The event says who (the signed-in staff member or the API token's user),
``view`` for a GET and ``change`` otherwise, the record, and the outcome from the answer:
``success``, ``denied`` (401, 403, 404: a record out of reach is refused as not found) or
``failed`` (any other error, e.g. a form refused; or a redirect with a warning, such as a stale
version: the change was rolled back). A
refused record is named by ``record_type``/``record_id`` only. Anonymous requests are not
recorded (they reach nothing; the sign-in attempts are audited by the sign-in). The portal's
pages and the request form record their own events, under the ``portal`` and ``public``
service accounts.
"""
from __future__ import annotations

import re

from flask import Flask, g, has_request_context, message_flashed, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Inquiry
from ..models.audit import DENIED, FAILED, SUCCESS
from ..services import audit
from ..services.visibility import MAX_ID

#: URL parts that name a record, by the record type they name.
RECORD_ARGS = {"inquiry_id": "inquiry", "patient_id": "patient", "other_id": "patient", "task_id": "task"}
#: Records named by another URL part on one endpoint.
ENDPOINT_RECORDS = {"admin.quarantined_message": ("mail_id", "inbound_mail"),
                    "admin.retry_message": ("mail_id", "inbound_mail"),
                    "admin.resend": ("mail_id", "outbound_mail")}
#: Pages and API calls that list patients' cases: one event per request, with the filters'
#: names (never their values).
LISTS = {"inquiries.index": "inquiry_list", "inquiries.board": "inquiry_list",
         "api.list_inquiries": "inquiry_list", "patients.duplicates": "patient_list",
         "tasks.index": "task_list", "api.list_tasks": "task_list", "admin.mail": "mail_list"}
_ARG_NAME = re.compile(r"^[a-z_]{1,20}$")


def records_of_request() -> list[tuple[str, int | None]]:
    """The records the current request names: ``[(record_type, id)]`` (id None for a list)."""
    endpoint = request.endpoint or ""
    if endpoint in LISTS:
        return [(LISTS[endpoint], None)]
    args = request.view_args or {}
    if endpoint in ENDPOINT_RECORDS:
        name, record_type = ENDPOINT_RECORDS[endpoint]
        return [(record_type, _id(args.get(name)))]
    return [(record_type, _id(args[name])) for name, record_type in RECORD_ARGS.items() if name in args]


def _id(value) -> int | None:
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def _principal():
    """Who made the request: the API token's user, the signed-in staff member, or None."""
    if request.blueprint == "api":
        return g.get("api_user")
    if request.blueprint == "portal" or not current_user.is_authenticated:
        return None
    return current_user


def outcome_of(status: int) -> str:
    if status < 400:
        return SUCCESS
    return DENIED if status in (401, 403, 404) else FAILED


def _detail(status: int, listed: bool) -> str:
    detail = f"{request.method} {request.endpoint} {status}"
    if listed:
        names = sorted({name for name in request.args if _ARG_NAME.match(name)})
        if names:
            detail += " filters=" + ",".join(names)
    return detail[:200]


def record_request(response):
    """One event for each record the request names (or its list), unless it has its own."""
    records = records_of_request()
    if not records:
        return response
    actor = _principal()
    if actor is None or audit.committed_in_request():
        return response
    status = response.status_code
    outcome = outcome_of(status)
    if outcome == SUCCESS and g.get("audit_refused"):
        outcome = FAILED  # e.g. a stale version: refused with a message and a redirect
    action = "view" if request.method in ("GET", "HEAD") else "change"
    db.session.rollback()  # what the view left uncommitted is dropped at teardown anyway
    for record_type, record_id in records:
        ids = {}
        if outcome != DENIED and record_type == "inquiry" and record_id is not None:
            ids = {"inquiry_id": record_id, "patient_id": db.session.scalar(
                select(Inquiry.patient_id).where(Inquiry.id == record_id))}
        elif outcome != DENIED and record_type == "patient":
            ids = {"patient_id": record_id}
        audit.record(action, actor=actor, outcome=outcome, record_type=record_type, record_id=record_id,
                     detail=_detail(status, record_id is None), **ids)
    db.session.commit()
    return response


def _flashed(_sender, message=None, category=None, **_extra) -> None:
    """A view that answers a refusal with a message and a redirect: the request failed."""
    if category in ("danger", "warning") and has_request_context():
        g.audit_refused = True


def register(app: Flask) -> None:
    audit.install()  # here, after the blueprints: the chain's listeners come after theirs
    app.after_request(record_request)
    message_flashed.connect(_flashed, app)
