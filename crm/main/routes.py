"""The home redirect, health probes and the staff language setting."""
from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..auth.access import safe_next
from ..extensions import csrf, db
from ..i18n import normalize_locale

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.is_admin:
        return redirect(url_for("admin.index"))
    return redirect(url_for("inquiries.board"))


@bp.route("/healthz")
@csrf.exempt
def healthz():
    return jsonify(status="ok")


def migration_heads() -> set[str]:
    script = ScriptDirectory(current_app.config["MIGRATIONS_DIR"])
    return set(script.get_heads())


@bp.route("/readyz")
def readyz():
    """200 when the database answers and is at the migrations' head, else 503."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return jsonify(status="unavailable", reason="database"), 503
    if current != migration_heads():
        return jsonify(status="unavailable", reason="migrations"), 503
    return jsonify(status="ok")


@bp.route("/settings/language", methods=["POST"])
@login_required
def set_language():
    locale = normalize_locale(request.form.get("locale"))
    if locale:
        current_user.ui_locale = locale
        db.session.commit()
    target = request.form.get("next") or ""
    return redirect(safe_next(target) or url_for("main.index"))
