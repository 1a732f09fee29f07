"""Itinera: the application factory."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from flask import Flask

from config import INSTANCE_DIR, ConfigError, config_for

from .config_check import check as check_config

__all__ = ["ConfigError", "create_app"]


def create_app(config: str | None = None, **overrides) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, security headers, CLI.

    :param config: ``development``, ``testing`` or ``production`` (else ``CRM_ENV``).
    :param overrides: settings that win over the environment (tests).
    """
    cls = config_for(config)
    app = Flask(__name__, template_folder=cls.TEMPLATE_FOLDER, instance_path=str(INSTANCE_DIR),
                instance_relative_config=True)
    register_config(app, cls, overrides)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def register_config(app: Flask, cls, overrides: dict) -> None:
    app.config.from_object(cls)
    app.config.from_prefixed_env("CRM")
    app.config.update(overrides)
    url = str(app.config["DATABASE_URL"])
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    check_config(app.config)  # a ConfigError names the setting that cannot work
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = app.config["TRANSLATIONS_DIR"]
    # Uploads are checked against MAX_UPLOAD_MB; a request far larger is cut off unread.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = (2 * int(app.config["MAX_UPLOAD_MB"]) + 1) * 1024 * 1024
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////:memory:"):
        folder = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"CRM_DATABASE_URL: the folder {folder} of the SQLite database cannot be "
                              f"made: {error.strerror}") from None


class _HideQueryStrings(logging.Filter):
    """The development server logs request lines: keep query strings (search text, filters)
    out of the log, since they may hold patient data."""

    _query = re.compile(r"\?[^ \"]*")
    _portal = re.compile(r"/p/[^/ ?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self._portal.sub("/p/…", self._query.sub("?…", a)) if isinstance(a, str)
                                else a for a in record.args)
        return True


def register_logging(app: Flask) -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _HideQueryStrings) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_HideQueryStrings())


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (the tables must be known to the metadata)
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .i18n import select_locale
    from .services.users import load_user_from_session

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"], compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user_from_session)
    from flask_babel import lazy_gettext as _l
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin_bp
    from .api.routes import bp as api_bp
    from .auth.account import bp as account_bp
    from .auth.break_glass import bp as break_glass_bp
    from .auth.routes import bp as auth_bp
    from .inquiries.routes import bp as inquiries_bp
    from .main.routes import bp as main_bp
    from .patients.routes import bp as patients_bp
    from .portal.routes import bp as portal_bp
    from .public.routes import bp as public_bp
    from .tasks.routes import bp as tasks_bp
    from .dashboard.routes import bp as dashboard_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(break_glass_bp)
    app.register_blueprint(inquiries_bp, url_prefix="/inquiries")
    app.register_blueprint(patients_bp, url_prefix="/patients")
    app.register_blueprint(public_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(tasks_bp, url_prefix="/tasks")
    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def register_errorhandlers(app: Flask) -> None:
    from .main.errors import register
    register(app)


def register_request_hooks(app: Flask) -> None:
    from .main.security import register
    register(app)


def register_template_helpers(app: Flask) -> None:
    from .main.templating import register
    register(app)


def register_cli(app: Flask) -> None:
    from .cli import register
    register(app)
