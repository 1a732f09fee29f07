"""Error pages and JSON errors: a clear, localized message and a 4xx, never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from sqlalchemy.orm.exc import StaleDataError

from ..services.errors import DomainError, StaleVersion

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(code: str, message: str, status: int, fields: dict | None = None):
    body = {"error": {"code": code, "message": str(message),
                      "fields": {k: str(v) for k, v in (fields or {}).items()}}}
    return jsonify(body), status


MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Please sign in."),
    403: lambda: _("You are not allowed to open this page."),
    404: lambda: _("This page does not exist, or you do not have access to it."),
    405: lambda: _("This action is not available here."),
    409: lambda: _("This change conflicts with another one."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Please try again."),
}


def render_error(status: int, message: str | None = None, code: str | None = None):
    message = message or MESSAGES.get(status, MESSAGES[400])()
    if wants_json():
        return json_error(code or _http_code(status), message, status)
    return render_template("errors/error.html", status=status, message=message), status


def _http_code(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large",
            429: "rate_limited"}.get(status, "error")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("This form has expired. Go back, reload the page and try again."),
                            code="csrf")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return json_error(error.code, error.message, error.status, getattr(error, "fields", None))
        return render_error(error.status, str(error.message), code=error.code)

    @app.errorhandler(StaleDataError)
    def stale_row(error):
        db.session.rollback()
        stale = StaleVersion()
        if wants_json():
            return json_error(stale.code, stale.message, stale.status)
        return render_error(409, str(stale.message), code=stale.code)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        return render_error(500)
